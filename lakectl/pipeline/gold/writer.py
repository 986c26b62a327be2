"""Writing gold: a table recomputed in full, or just the days a change touched (replaced, or appended
when all are newer than the table's), and the rows a run's commits wrote and removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.core import sql
from lakectl.engine.context import JobContext
from lakectl.lake import delta
from lakectl.pipeline.gold.builders import GOLD, SCORE_COLUMNS, SILVER_COLUMNS, GoldSpec
from lakectl.pipeline.gold.refresh import RefreshPlan

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def read_silver(spark: SparkSession, path: str, version: int) -> DataFrame:
    """silver.events as of `version`, with the columns the builders read."""
    return spark.read.format("delta").option("versionAsOf", version).load(path).select(*SILVER_COLUMNS)


def read_scores(spark: SparkSession, ctx: JobContext, version: int) -> DataFrame | None:
    """silver.review_scores as of `version` (None before any scoring)."""
    if version < 0:
        return None
    path = ctx.settings.table("silver.review_scores").path
    return spark.read.format("delta").option("versionAsOf", version).load(path).select(*SCORE_COLUMNS)


def build(spec: GoldSpec, events: DataFrame, scores: DataFrame | None) -> DataFrame:
    """The gold rows of `spec` from these silver rows (sentiment_daily also from the scores)."""
    return spec.build(events, scores) if spec.table == "gold.sentiment_daily" else spec.build(events)


Txn = tuple[str, int]  # (txnAppId, txnVersion): Delta skips a write it has already committed under them


def _writer(df: DataFrame, ctx: JobContext, txn: Txn | None):  # noqa: ANN202 - pyspark's DataFrameWriter
    writer = df.write.format("delta").option("userMetadata", ctx.run_id)
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
    return writer


def write_full(ctx: JobContext, spec: GoldSpec, silver: DataFrame, scores: DataFrame | None, txn: Txn | None = None) -> None:
    gold = ctx.settings.table(spec.table)
    writer = _writer(build(spec, silver, scores), ctx, txn).mode("overwrite").option("overwriteSchema", "true")
    if gold.config.partition_by:
        writer = writer.partitionBy(*gold.config.partition_by)
    writer.save(gold.path)


def write_days(
    ctx: JobContext, spec: GoldSpec, silver: DataFrame, scores: DataFrame | None, plan: RefreshPlan, txn: Txn | None = None
) -> None:
    """Recompute the touched days from all their silver rows and write them in one commit. Days the
    table already holds are overwritten (replaceWhere: keys left without rows disappear with their
    day's old rows). Days newer than all of the table's are appended: a blind append needs neither the
    table's file list nor a scan of it, which is ~1 s of Delta state work per table on every run."""
    from pyspark.sql import functions as F

    rows = silver.where(F.col("event_date").isin(*plan.touched_days))
    writer = _writer(build(spec, rows, scores), ctx, txn)
    if plan.append:
        writer = writer.mode("append")
    else:
        writer = writer.mode("overwrite").option(
            "replaceWhere", sql.days_predicate_sql(spec.day, plan.touched_days, hourly=spec.day == "event_hour")
        )
    writer.save(ctx.settings.table(spec.table).path)


def last_commit_rows(spark: SparkSession, path: str, run_id: str, after: int) -> dict[str, int]:
    """Rows written, and old rows a replaceWhere removed, by this run's commits after `after` (from
    the Delta log, no scan)."""
    out = {"written": 0, "deleted": 0}
    for info in delta.commits_after(spark, path, after):
        if info.get("userMetadata") == run_id:
            m = info.get("operationMetrics") or {}
            out["written"] += int(m.get("numOutputRows", 0))
            out["deleted"] += int(m.get("numDeletedRows", 0))
    return out


def create_tables(ctx: JobContext, silver: DataFrame, scores: DataFrame | None) -> None:
    """Every gold table, created with its schema and its policy's properties before the first write."""
    for spec in GOLD:
        gold = ctx.settings.table(spec.table)
        if not delta.exists(ctx.spark, gold):
            delta.ensure_table(ctx.spark, gold, build(spec, silver, scores).schema)
