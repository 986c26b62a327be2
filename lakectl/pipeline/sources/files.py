"""Files source: new JSON-lines files in a landing folder, read incrementally as text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.config import Settings
from lakectl.core.errors import SourceUnavailable
from lakectl.pipeline.bronze.parse import with_source_columns

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def events_path(settings: Settings) -> str:
    return settings.sources.files.path or str(settings.storage.landing_dir / "events")


def batch_limit(settings: Settings, batch_bytes: int) -> dict[str, str]:
    """A file count when configured, else a byte budget (Spark refuses both on one file source)."""
    files = settings.sources.files.max_files_per_trigger
    return {"maxFilesPerTrigger": str(files)} if files else {"maxBytesPerTrigger": str(batch_bytes)}


def require_landing(path: str) -> None:
    """The landing folder exists (a local path; object stores are checked by Spark)."""
    if "://" not in path and not Path(path).is_dir():
        raise SourceUnavailable(f"landing folder not found: {path}", "run `lakectl generate` or set sources.files.path")


def nothing_new(path: str, offsets_dir: Path) -> bool:
    """True when the stream has already read every landing file and has no planned, uncommitted
    batch: a run would only start a JVM to find nothing. False whenever unsure (Spark decides)."""
    import json
    from urllib.parse import unquote, urlparse

    if "://" in path:
        return False
    planned = {f.name for f in (offsets_dir / "offsets").glob("[0-9]*")}
    committed = {f.name for f in (offsets_dir / "commits").glob("[0-9]*")}
    if not committed or planned - committed:
        return False
    seen: set[str] = set()
    for log in (offsets_dir / "sources" / "0").glob("[0-9]*"):  # N and N.compact: one JSON entry per line
        for line in log.read_text(errors="replace").splitlines()[1:]:
            try:
                seen.add(unquote(urlparse(json.loads(line)["path"]).path))
            except (ValueError, KeyError, TypeError):
                return False
    landing = Path(path).absolute()
    return all(str(f) in seen for f in landing.rglob("*.json*") if f.is_file() and not f.name.startswith((".", "_")))


def read_stream(spark: SparkSession, settings: Settings, path: str | None = None, *, batch_bytes: int) -> DataFrame:
    from pyspark.sql import functions as F

    path = path or events_path(settings)
    if "://" not in path and not Path(path).is_dir():
        raise SourceUnavailable(f"landing folder not found: {path}", "run `lakectl generate` or set sources.files.path")
    df = spark.readStream.format("text").options(**batch_limit(settings, batch_bytes)).option("pathGlobFilter", "*.json*").load(path)
    return with_source_columns(df.select("value", "_metadata.file_path"), source=F.lit("files"), source_file=F.col("file_path")).drop(
        "file_path"
    )
