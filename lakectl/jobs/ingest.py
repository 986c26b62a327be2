"""ingest: a source stream -> bronze.events (+ bronze.quarantine), checkpointed and exactly-once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakectl.bronze import EVENT_FIELDS, SOURCE_COLUMNS, parse_events
from lakectl.context import JobContext
from lakectl.delta import append_once, rows_committed, table_version
from lakectl.errors import SourceUnavailable, UsageError
from lakectl.results import Result
from lakectl.streaming import checkpoint_app_id, input_rows, run_query

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SOURCES = ("files", "kafka", "eventhubs", "kinesis")
BRONZE_COLUMNS = [n for n, _ in EVENT_FIELDS] + ["raw"] + [n for n, _ in SOURCE_COLUMNS] + ["ingest_time", "ingest_run_id", "batch_id"]
QUARANTINE_COLUMNS = ["raw", "reason", "event_id"] + [n for n, _ in SOURCE_COLUMNS] + ["ingest_time", "ingest_run_id", "batch_id"]


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["files", "kafka", "eventhubs", "kinesis"] = "files"
    path: str | None = None
    continuous: bool = False
    trigger_interval: str | None = None
    checkpoint: str | None = None
    dry_run: bool = False
    allow_data_loss: bool = False
    max_batches: int | None = Field(None, ge=1)


def checkpoint_dir(ctx: JobContext, p: IngestParams) -> Path:
    return Path(p.checkpoint) if p.checkpoint else ctx.settings.storage.checkpoints_dir / "ingest" / p.source


def open_source(ctx: JobContext, p: IngestParams) -> tuple["DataFrame", dict[str, Any]]:
    """The source's streaming DataFrame and its identity (recorded with the checkpoint)."""
    if p.source == "files":
        from lakectl.sources import files

        path = p.path or files.events_path(ctx.settings)
        return files.read_stream(ctx.spark, ctx.settings, path), {"source": "files", "path": str(Path(path).absolute()) if "://" not in path else path}
    raise UsageError(f"source {p.source!r} is not available in this version", "use --source files")


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = IngestParams.model_validate(params)
    bronze = ctx.settings.table("bronze.events")
    quarantine = ctx.settings.table("bronze.quarantine")
    checkpoint = checkpoint_dir(ctx, p)
    if p.dry_run:
        return Result(
            job="ingest", dry_run=True, tables_written=[bronze.display, quarantine.display],
            metrics={"source": p.source, "checkpoint": str(checkpoint), "trigger": "continuous" if p.continuous else "availableNow"},
        )
    spark = ctx.spark
    stream, identity = open_source(ctx, p)
    app_id = checkpoint_app_id(checkpoint, identity)
    versions = {bronze.path: table_version(spark, bronze.path), quarantine.path: table_version(spark, quarantine.path)}

    def write_batch(batch: "DataFrame", batch_id: int) -> None:
        from pyspark.sql import functions as F

        parsed = parse_events(batch).withColumn("ingest_time", F.current_timestamp()) \
            .withColumn("ingest_run_id", F.lit(ctx.run_id)).withColumn("batch_id", F.lit(batch_id).cast("long")) \
            .withColumnRenamed("value", "raw").persist()
        try:
            good = parsed.where(F.col("reason").isNull()).select(*BRONZE_COLUMNS)
            bad = parsed.where(F.col("reason").isNotNull()).select(*QUARANTINE_COLUMNS)
            append_once(good, bronze.path, app_id=app_id, version=batch_id, run_id=ctx.run_id)
            append_once(bad, quarantine.path, app_id=app_id, version=batch_id, run_id=ctx.run_id)
        finally:
            parsed.unpersist()

    writer = stream.writeStream.foreachBatch(write_batch).option("checkpointLocation", str(checkpoint / "offsets")).queryName(f"ingest-{p.source}")
    interval = p.trigger_interval or ctx.settings.ingest.trigger_interval
    query = run_query(writer, continuous=p.continuous, interval=interval)
    written = rows_committed(spark, bronze.path, ctx.run_id, versions[bronze.path])
    quarantined = rows_committed(spark, quarantine.path, ctx.run_id, versions[quarantine.path])
    return Result(
        job="ingest",
        rows_read=input_rows(query) or written + quarantined,
        rows_written=written,
        rows_quarantined=quarantined,
        tables_written=[bronze.display, quarantine.display],
        metrics={"source": p.source, "batches": len(query.recentProgress), "checkpoint": str(checkpoint)},
    )
