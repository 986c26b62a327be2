"""Small Delta helpers shared by the jobs: idempotent appends, versions, commit metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def is_delta_table(spark: "SparkSession", path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def table_version(spark: "SparkSession", path: str) -> int:
    """The latest version of the table at `path`, or -1 when there is no table yet."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return -1
    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()[0])


def append_once(df: "DataFrame", path: str, *, app_id: str, version: int, run_id: str, merge_schema: bool = False) -> None:
    """Append exactly once: Delta skips a (txnAppId, txnVersion) it has already committed, so a
    micro-batch replayed after a crash is not written twice."""
    writer = (
        df.write.format("delta").mode("append")
        .option("txnAppId", app_id).option("txnVersion", version)
        .option("userMetadata", run_id)
    )
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)


def rows_committed(spark: "SparkSession", path: str, run_id: str, after_version: int) -> int:
    """Rows that commits tagged with `run_id` wrote after `after_version` (from the Delta log, no scan)."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    if not DeltaTable.isDeltaTable(spark, path):
        return 0
    history = DeltaTable.forPath(spark, path).history()
    row = (
        history.where((F.col("version") > after_version) & (F.col("userMetadata") == run_id))
        .select(F.sum(F.col("operationMetrics")["numOutputRows"].cast("long")).alias("n"))
        .first()
    )
    return int(row["n"] or 0)
