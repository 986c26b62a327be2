"""Exporting gold for BI tools: every gold table as one CSV (with header) or Parquet file."""

from __future__ import annotations

from pathlib import Path

from lakectl.engine.context import JobContext
from lakectl.lake.delta import log_version
from lakectl.pipeline.gold.builders import GOLD


def export_path(directory: str, table: str) -> str:
    """Where a gold table's export goes: <dir>/<name> (the suffix is added for a local folder)."""
    return (
        str(Path(directory).absolute() / table.partition(".")[2])
        if "://" not in directory
        else f"{directory.rstrip('/')}/{table.partition('.')[2]}"
    )


def export(ctx: JobContext, fmt: str, directory: str) -> list[str]:
    """Write every gold table to <dir>/<name>.csv (with header) or .parquet, one file per table,
    replacing old exports (on object storage: Spark's <dir>/<name>/ folder with one part file)."""
    spark = ctx.spark
    written = []
    for spec in GOLD:
        gold = ctx.settings.table(spec.table)
        if log_version(spark, gold.path) < 0:
            continue
        out = export_path(directory, spec.table)
        df = spark.read.format("delta").load(gold.path).orderBy(*spec.keys).coalesce(1)
        writer = df.write.mode("overwrite").format(fmt)
        if fmt == "csv":
            writer = writer.option("header", "true")
        if "://" in out:
            writer.save(out)
            written.append(out)
            continue
        staging = Path(out).with_name(f".{Path(out).name}.tmp")
        writer.save(str(staging))
        written.append(_single_file(staging, Path(f"{out}.{fmt}")))
    return written


def _single_file(staging: Path, target: Path) -> str:
    """Move the one part file Spark wrote into `target` and drop the rest (.crc, _SUCCESS)."""
    import shutil

    part = next(staging.glob("part-*"))
    part.replace(target)
    shutil.rmtree(staging)
    return str(target)
