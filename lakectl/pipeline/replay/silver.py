"""silver.quarantine -> silver.events (+ silver.reviews) through today's cleaning, dimensions and expectations.

A quarantined row's `record` holds the silver-shaped row with its raw payload. Cleaning is idempotent, so
its values come out as they went in; the dimensions are joined again (a customer or product that arrived
late now enriches it) and today's rules decide. Passing rows are MERGEd insert-only on event_id, stamped
with the replay's run id; then one MERGE marks the quarantine rows. A replay killed between the two
finds its rows already in silver (the MERGE inserts none) and only finishes the marking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.core.errors import JobFailed
from lakectl.core.faults import kill_point
from lakectl.core.sql import quote_ident
from lakectl.engine.context import JobContext
from lakectl.lake.delta import is_delta_table
from lakectl.pipeline.bronze.parse import EVENT_FIELDS
from lakectl.pipeline.replay.marks import (
    AT,
    DROPPED,
    FAILING,
    MOVED,
    RUN_ID,
    STATUS,
    Selection,
    ensure_mark_columns,
    pending_marks,
    write_marks,
)
from lakectl.pipeline.replay.outcome import ReplayOutcome
from lakectl.pipeline.silver import cleaning as silver
from lakectl.pipeline.silver.batch import check_and_dedup, good_rows
from lakectl.pipeline.silver.dimensions import Dimensions
from lakectl.pipeline.silver.expectations import FAILED, OUTCOME, rules_for, validate
from lakectl.pipeline.silver.tables import TransformTables
from lakectl.pipeline.silver.writer import merge_insert_only

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

SILVER_TABLE = "silver.events"
KEY = "event_id"


def record_schema(spark: SparkSession, t: TransformTables) -> StructType:
    """The shape transform quarantined rows in: silver.events' columns (evolved ones included) + raw + _rescued."""
    from pyspark.sql.types import StringType, StructField

    if is_delta_table(spark, t.events.path):
        schema = spark.read.format("delta").load(t.events.path).schema
    else:
        schema = spark.createDataFrame([], ", ".join(f"{quote_ident(c)} {k}" for c, k in silver.SILVER_EVENT_TYPES.items())).schema
    for extra in ("raw", silver.RESCUED):
        if extra not in schema.fieldNames():
            schema = schema.add(StructField(extra, StringType()))
    return schema


def rebuild(quarantined: DataFrame, schema: StructType, dims: Dimensions, run_id: str) -> DataFrame:
    """Quarantined records -> silver-shaped rows (with `raw`), cleaned and enriched as transform does today."""
    from pyspark.sql import functions as F

    parsed = quarantined.select(F.from_json("record", schema).alias("_r")).select("_r.*")
    extras = [c for c in parsed.columns if c not in silver.SILVER_EVENT_TYPES and c != "raw"]  # _rescued, evolved columns
    bronze_like = parsed.select(*[n for n, _ in EVENT_FIELDS], "raw", "ingest_time", *extras)
    return silver.to_silver(silver.enrich(silver.clean_events(bronze_like), dims.customers, dims.products), run_id)


def replay_silver(ctx: JobContext, selection: Selection, *, dry_run: bool) -> ReplayOutcome | None:
    """Replay silver.quarantine; None when there is no such table (nothing was ever quarantined)."""
    from pyspark.sql import functions as F

    spark = ctx.spark
    t = TransformTables.of(ctx.settings)
    out = ReplayOutcome("silver", t.quarantine.display, t.events.display, t.reviews.display)
    if not is_delta_table(spark, t.quarantine.path):
        return None
    if not dry_run:
        ensure_mark_columns(spark, t.quarantine)  # before any read, so every read sees one schema
    rules = rules_for(ctx.settings.transform.expectations, SILVER_TABLE)
    quarantine = spark.read.format("delta").load(t.quarantine.path)
    taken = selection.apply(quarantine, F.col("rules"), "quarantined_at").persist()
    dims = Dimensions.load(spark, ctx.settings, t)
    checked = None
    try:
        counts = taken.agg(F.count(F.lit(1)).alias("rows"), F.count_if(F.col(KEY).isNull()).alias("no_key")).first()
        out.replayed, out.skipped_without_key = int(counts["rows"]), int(counts["no_key"])
        keyed = taken.where(F.col(KEY).isNotNull())
        rows = rebuild(keyed, record_schema(spark, t), dims, ctx.run_id)
        validate(rows, rules)
        checked = check_and_dedup(rows, rules).join(keyed.select(KEY, F.col("rules").alias("_old_rules")), KEY).persist()
        outcome = F.col(OUTCOME)
        failing = outcome == "quarantine"
        stats = checked.agg(  # one pass: the outcomes, and how many rows still fail each rule
            *[F.count_if(outcome == o).alias(o) for o in ("ok", "drop", "quarantine", "fail")],
            F.count_if((outcome == "ok") & (F.col("event_type") == "review")).alias("ok_reviews"),
            F.count_if(failing & ~F.col(FAILED).eqNullSafe(F.col("_old_rules"))).alias("changed"),
            *[F.count_if(failing & F.array_contains(FAILED, r.name)).alias(f"_rule_{i}") for i, r in enumerate(rules)],
        ).first()
        if stats["fail"]:
            raise JobFailed(
                f"{stats['fail']} replayed row(s) fail an expectation with action fail; nothing was written",
                "change that rule's action in transform.expectations, or narrow the replay with --rule/--since",
            )
        out.moved, out.dropped, out.still_failing = int(stats["ok"]), int(stats["drop"]), int(stats["quarantine"])
        out.reason_changed = int(stats["changed"])
        out.failing_by_rule = {
            r.name: int(stats[f"_rule_{i}"]) for i, r in sorted(enumerate(rules), key=lambda x: x[1].name) if stats[f"_rule_{i}"]
        }
        if dry_run:
            return out
        good = good_rows(checked.drop("_old_rules"), rules)
        if stats["ok"]:
            out.inserted = merge_insert_only(spark, t.events, good, KEY, change_feed=True)
        if stats["ok_reviews"]:
            out.reviews_inserted = merge_insert_only(spark, t.reviews, silver.reviews(good), KEY)
        kill_point("replay.before_marks")  # the next layer written, the quarantine not yet marked
        status = F.when(outcome == "ok", F.lit(MOVED)).when(outcome == "drop", F.lit(DROPPED)).otherwise(F.lit(FAILING))
        marks = checked.select(
            KEY,
            status.alias(STATUS),
            F.lit(ctx.run_id).alias(RUN_ID),
            F.current_timestamp().alias(AT),
            F.when(outcome == "quarantine", F.col(FAILED)).otherwise(F.col("_old_rules")).alias("rules"),
        )
        todo = pending_marks(quarantine, marks, [KEY], [STATUS, "rules"]).persist()
        try:
            out.marked = todo.count()
            if out.marked:
                write_marks(spark, t.quarantine, todo, [KEY], "rules")
        finally:
            todo.unpersist()
        return out
    finally:
        if checked is not None:
            checked.unpersist()
        taken.unpersist()
        dims.close()
