"""Files source: new JSON-lines files in a landing folder, read incrementally as text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.bronze import with_source_columns
from lakectl.errors import SourceUnavailable
from lakectl.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def events_path(settings: Settings) -> str:
    return settings.sources.files.path or str(settings.storage.landing_dir / "events")


def batch_limit(settings: Settings, batch_bytes: int) -> dict[str, str]:
    """A file count when configured, else a byte budget (Spark refuses both on one file source)."""
    files = settings.sources.files.max_files_per_trigger
    return {"maxFilesPerTrigger": str(files)} if files else {"maxBytesPerTrigger": str(batch_bytes)}


def read_stream(spark: "SparkSession", settings: Settings, path: str | None = None, *, batch_bytes: int) -> "DataFrame":
    from pyspark.sql import functions as F

    path = path or events_path(settings)
    if "://" not in path and not Path(path).is_dir():
        raise SourceUnavailable(f"landing folder not found: {path}", "run `lakectl generate` or set sources.files.path")
    df = (
        spark.readStream.format("text")
        .options(**batch_limit(settings, batch_bytes))
        .option("pathGlobFilter", "*.json*")
        .load(path)
    )
    return with_source_columns(df.select("value", "_metadata.file_path"), source=F.lit("files"), source_file=F.col("file_path")).drop("file_path")
