"""Gold as a stream: each micro-batch of silver.events' change feed (and, when a model scores reviews, of
silver.review_scores) refreshes the gold tables with aggregate's incremental logic: the days the batch
touched are recomputed from all their silver rows and written in one commit per table (replaced, or
appended when newer than the table's), or the table is recomputed in full when the batch touches most
of its days. Every write carries txnAppId/txnVersion (the stream's own id, the batch id), so a batch
replayed after a crash changes nothing; aggregate's state (pipeline.gold.refresh) is kept up to date,
so a later batch `lakectl aggregate` continues from where the stream stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakectl.engine.context import JobContext
from lakectl.lake.batch_report import BatchReport, BatchReports, epoch
from lakectl.lake.delta import log_version
from lakectl.pipeline.gold.builders import GOLD
from lakectl.pipeline.gold.refresh import RefreshPlan, known_days, last_day, load_state, save_state
from lakectl.pipeline.gold.writer import last_commit_rows, read_scores, read_silver, write_days, write_full

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SILVER, SCORES = "silver.events", "silver.review_scores"
FEED_COLUMNS = "origin string, event_id string, event_date date, event_time timestamp, version long"


def source(spark: SparkSession, ctx: JobContext, *, with_scores: bool, starting_version: int | str | None) -> DataFrame:
    """The gold stream's input: silver's change feed (inserted rows) and, `with_scores`, the scores a
    model adds, both as (origin, event_id, event_date, event_time, version)."""
    from pyspark.sql import functions as F

    reader = spark.readStream.format("delta").option("readChangeFeed", "true")
    if starting_version is not None:
        reader = reader.option("startingVersion", starting_version)
    changes = (
        reader.load(ctx.settings.table(SILVER).path)
        .where(F.col("_change_type").isin("insert", "update_postimage"))
        .select(
            F.lit("silver").alias("origin"),
            "event_id",
            "event_date",
            "event_time",
            F.col("_commit_version").cast("long").alias("version"),
        )
    )
    if not with_scores:
        return changes
    # skipChangeCommits: a `score --rescore` rewrites scores in place; the next silver change or a batch
    # `aggregate` (its state sees the new scores version) brings sentiment up to date.
    scores = (
        spark.readStream.format("delta")
        .option("skipChangeCommits", "true")
        .load(ctx.settings.table(SCORES).path)
        .select(
            F.lit("scores").alias("origin"),
            "event_id",
            F.lit(None).cast("date").alias("event_date"),
            F.lit(None).cast("timestamp").alias("event_time"),
            F.lit(None).cast("long").alias("version"),
        )
    )
    return changes.unionByName(scores)


def starting_version(ctx: JobContext) -> int | str | None:
    """Where a new gold stream starts in silver's change feed: after the version every gold table has
    already folded in (aggregate's state), so a lake built by batch runs is not recomputed ("latest" when
    that is silver's last version); None (the whole table first) when the state does not say so for all
    of them."""
    state = load_state(ctx)
    versions = {(state.get(spec.table) or {}).get("silver_version") for spec in GOLD}
    if len(versions) != 1 or None in versions:
        return None
    if any(log_version(ctx.spark, ctx.settings.table(spec.table).path) < 0 for spec in GOLD):
        return None
    (version,) = versions
    return int(version) + 1 if int(version) < log_version(ctx.spark, ctx.settings.table(SILVER).path) else "latest"


class GoldRefresh:
    """foreachBatch body of the gold stream."""

    def __init__(self, ctx: JobContext, app_id: str, reports: BatchReports, threshold: float) -> None:
        self.ctx, self.app_id, self.reports, self.threshold = ctx, app_id, reports, threshold

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        from pyspark.sql import functions as F

        spark, ctx = batch.sparkSession, self.ctx
        per_day = (
            batch.groupBy("origin", "event_date")
            .agg(F.count(F.lit(1)).alias("n"), F.max("event_time").alias("newest"), F.max("version").alias("version"))
            .collect()
        )
        rows = sum(int(r["n"]) for r in per_day)
        silver_days = {r["event_date"] for r in per_day if r["origin"] == "silver" and r["event_date"] is not None}
        newest = max((r["newest"] for r in per_day if r["newest"] is not None), default=None)
        state = load_state(ctx)
        folded = max((int(s.get("silver_version", -1)) for s in state.values()), default=-1)
        version = max([int(r["version"]) for r in per_day if r["version"] is not None] + [folded])
        if version < 0:
            version = log_version(spark, ctx.settings.table(SILVER).path)
        silver = read_silver(spark, ctx.settings.table(SILVER).path, version)
        scores_version = log_version(spark, ctx.settings.table(SCORES).path)
        scores = read_scores(spark, ctx, scores_version)
        score_days: set[Any] = set()
        if any(r["origin"] == "scores" for r in per_day):
            scored = batch.where(F.col("origin") == "scores").select("event_id")
            found = silver.join(scored, "event_id", "left_semi").select("event_date").distinct().collect()
            score_days = {r["event_date"] for r in found if r["event_date"] is not None}
        written: dict[str, int] = {}
        all_days = known_days(spark, ctx) | silver_days
        wanted = silver_days | score_days
        inc_input = silver.where(F.col("event_date").isin(*wanted)).persist() if wanted else silver
        try:
            for spec in GOLD:
                days = silver_days | (score_days if spec.table == "gold.sentiment_daily" else set())
                gold = ctx.settings.table(spec.table)
                before = log_version(spark, gold.path)
                if days:
                    plan = self._plan(spec.table, spec.day, sorted(days), all_days, before, version)
                    txn = (self.app_id, int(batch_id))
                    if plan.mode == "full":
                        write_full(ctx, spec, silver, scores, txn)
                    else:
                        write_days(ctx, spec, inc_input, scores, plan, txn)
                    written[gold.display] = last_commit_rows(spark, gold.path, ctx.run_id, before)["written"]
                state[spec.table] = {"silver_version": version, "scores_version": scores_version}
            save_state(ctx, state)
        finally:
            if inc_input is not silver:
                inc_input.unpersist()
        self.reports.record(spark, batch_id, BatchReport(rows, written, newest_event_time=epoch(newest)))

    def _plan(self, table: str, day_column: str, days: list[Any], all_days: set[Any], gold_version: int, version: int) -> RefreshPlan:
        plan = RefreshPlan(table, "incremental", "a micro-batch of silver", None, version, touched_days=days)
        if gold_version < 0:
            plan.mode, plan.reason = "full", "gold table missing"
        elif len(days) >= self.threshold * len(all_days) and len(all_days) > 1:
            plan.mode, plan.reason = "full", f"{len(days):,} of {len(all_days):,} days touched"
        else:
            last = last_day(self.ctx.settings.table(table).path, day_column)
            plan.append = last is not None and days[0] > last
        return plan
