"""bronze.quarantine -> bronze.events: the raw payloads parsed again with today's parse.

Passing records are MERGEd insert-only on event_id into bronze.events (stamped with the replay's run id in
ingest_run_id; transform takes them from there like any new bronze row), then one MERGE marks the
quarantine rows, keyed by the payload and the ingest run and batch that quarantined it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.core.faults import kill_point
from lakectl.engine.context import JobContext
from lakectl.lake import delta
from lakectl.lake.delta import is_delta_table
from lakectl.pipeline.bronze.parse import parse_events
from lakectl.pipeline.bronze.writer import BRONZE_COLUMNS, QUARANTINE_COLUMNS
from lakectl.pipeline.replay.marks import AT, FAILING, MOVED, RUN_ID, STATUS, Selection, ensure_mark_columns, pending_marks, write_marks
from lakectl.pipeline.replay.outcome import ReplayOutcome

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

KEYS = ["raw", "ingest_run_id", "batch_id"]  # a quarantined record: its payload, the run and micro-batch that wrote it


def reparse(quarantined: DataFrame) -> DataFrame:
    """Quarantine rows parsed again: the typed event columns, the new `reason` (NULL: passes) and `_old_reason`."""
    from pyspark.sql import functions as F

    kept = [c for c in QUARANTINE_COLUMNS if c not in ("raw", "reason", "event_id")]
    return parse_events(quarantined.select(F.col("raw").alias("value"), *kept, F.col("reason").alias("_old_reason"))).withColumnRenamed(
        "value", "raw"
    )


def replay_bronze(ctx: JobContext, selection: Selection, *, dry_run: bool) -> ReplayOutcome | None:
    """Replay bronze.quarantine; None when there is no such table (no record was ever quarantined)."""
    from pyspark.sql import functions as F

    spark = ctx.spark
    q, events = ctx.settings.table("bronze.quarantine"), ctx.settings.table("bronze.events")
    out = ReplayOutcome("bronze", q.display, events.display)
    if not is_delta_table(spark, q.path):
        return None
    if not dry_run:
        ensure_mark_columns(spark, q)
    quarantine = spark.read.format("delta").load(q.path)
    taken = selection.apply(quarantine, F.split(F.col("reason"), ","), "ingest_time")
    checked = reparse(taken).persist()
    try:
        passes = F.col("reason").isNull()
        stats = checked.agg(
            F.count(F.lit(1)).alias("rows"),
            F.count_if(passes).alias("ok"),
            F.count_if(~passes & ~F.col("reason").eqNullSafe(F.col("_old_reason"))).alias("changed"),
        ).first()
        out.replayed, out.moved = int(stats["rows"]), int(stats["ok"])
        out.still_failing, out.reason_changed = out.replayed - out.moved, int(stats["changed"])
        by_rule = checked.where(~passes).select(F.explode(F.split("reason", ",")).alias("r")).groupBy("r").count().collect()
        out.failing_by_rule = {r["r"]: int(r["count"]) for r in sorted(by_rule, key=lambda r: r["r"])}
        if dry_run:
            return out
        if out.moved:
            good = checked.where(passes).withColumn("ingest_run_id", F.lit(ctx.run_id)).select(*BRONZE_COLUMNS).dropDuplicates(["event_id"])
            delta.ensure_table(spark, events, good.schema)
            out.inserted = delta.merge_insert_only(spark, events.ref, good, "event_id")
        kill_point("replay.before_marks")  # the next layer written, the quarantine not yet marked
        marks = checked.select(
            *KEYS,
            F.when(passes, F.lit(MOVED)).otherwise(F.lit(FAILING)).alias(STATUS),
            F.lit(ctx.run_id).alias(RUN_ID),
            F.current_timestamp().alias(AT),
            F.coalesce(F.col("reason"), F.col("_old_reason")).alias("reason"),
        )
        todo = pending_marks(quarantine, marks, KEYS, [STATUS, "reason"]).persist()
        try:
            out.marked = todo.count()
            if out.marked:
                write_marks(spark, q, todo, KEYS, "reason")
        finally:
            todo.unpersist()
        return out
    finally:
        checked.unpersist()
