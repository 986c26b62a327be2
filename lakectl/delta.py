"""Small Delta helpers shared by the jobs: idempotent appends, versions, commit metrics.

They use SQL (DESCRIBE HISTORY), not delta.tables.DeltaTable, so they work the same on a local
session and on a Spark Connect session: DeltaTable over Connect needs Delta's Connect server
plugin, which is not published for Spark 4.2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.sql import path_ref

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Error conditions that mean "no Delta table at this path" (not a failure to read one).
_NOT_A_TABLE = {"DELTA_TABLE_ONLY_OPERATION", "DELTA_MISSING_DELTA_TABLE", "DELTA_TABLE_NOT_FOUND", "PATH_NOT_FOUND",
                "DELTA_PATH_DOES_NOT_EXIST", "DELTA_EMPTY_DIRECTORY"}


def history(spark: "SparkSession", path: str, limit: int | None = None) -> "DataFrame | None":
    """The table's DESCRIBE HISTORY (newest first), or None when there is no Delta table at `path`."""
    from pyspark.errors import AnalysisException

    sql = f"DESCRIBE HISTORY {path_ref(path)}" + (f" LIMIT {int(limit)}" if limit else "")
    try:
        return spark.sql(sql)
    except AnalysisException as exc:
        if (exc.getCondition() or "") in _NOT_A_TABLE:
            return None
        raise


def is_delta_table(spark: "SparkSession", path: str) -> bool:
    return history(spark, path, 1) is not None


def table_version(spark: "SparkSession", path: str) -> int:
    """The latest version of the table at `path`, or -1 when there is no table yet."""
    latest = history(spark, path, 1)
    return -1 if latest is None else int(latest.select("version").first()[0])


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
    from pyspark.sql import functions as F

    commits = history(spark, path)
    if commits is None:
        return 0
    row = (
        commits.where((F.col("version") > after_version) & (F.col("userMetadata") == run_id))
        .select(F.sum(F.col("operationMetrics")["numOutputRows"].cast("long")).alias("n"))
        .first()
    )
    return int(row["n"] or 0)
