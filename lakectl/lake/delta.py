"""The Delta helper layer every job uses: existence, details, history, table creation with the policy's
properties, idempotent appends and MERGEs, versions and commit metrics.

Everything here is SQL (built only through lakectl.core.sql) or DataFrame writes, never the
delta.tables.DeltaTable Python API, so it works the same on a local session and on a Spark Connect
session: DeltaTable over Connect needs Delta's Connect server plugin, which is not published for
Spark 4.2. For a table on a local path, existence is read from the _delta_log folder (no Spark job).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core import sql
from lakectl.core.sql import path_ref

# Existence, details and history are what the Spark engine answers with; every job imports them from here.
from lakectl.engine.spark import detail, exists, history, is_connect, is_delta_table, local_log_exists  # noqa: F401

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from lakectl.config import TableHandle


def properties(spark: SparkSession, path: str) -> dict[str, str]:
    """The table's properties: from its log with delta-rs for a local path, else DESCRIBE DETAIL."""
    if "://" not in path:
        from lakectl.lake.deltars import open_table

        log = open_table(path)
        if log is not None:
            return dict(log.metadata().configuration)
    return dict(detail(spark, path_ref(path)).get("properties") or {})


def table_version(spark: SparkSession, path: str) -> int:
    """The latest version of the table at `path`, or -1 when there is no table yet."""
    if local_log_exists(path) is False:
        return -1
    latest = history(spark, path, 1)
    return -1 if latest is None else int(latest.select("version").first()[0])


def log_version(spark: SparkSession, path: str) -> int:
    """The table's latest version: from the _delta_log listing for a local path (no Spark job), else Spark."""
    log = Path(path) / "_delta_log"
    if "://" in path:
        return table_version(spark, path)
    versions = [int(f.name[:20]) for f in log.glob("*.json") if f.name[:20].isdigit()] if log.is_dir() else []
    return max(versions, default=-1)


@contextmanager
def temp_view(df: DataFrame) -> Iterator[str]:
    """`df` as a uniquely named temporary view of its session, dropped afterwards (quoted name)."""
    name = f"_lakectl_{uuid.uuid4().hex}"
    df.createOrReplaceTempView(name)
    try:
        yield sql.quote_ident(name)
    finally:
        df.sparkSession.catalog.dropTempView(name)


def table_properties(handle: TableHandle, *, change_feed: bool = False) -> dict[str, str]:
    """The properties a table is created with: its optimize policy's (optimizeWrite, autoCompact, stats
    columns, checkpoint interval, ...), plus the change data feed where a job reads it."""
    props = {k: str(v) for k, v in handle.config.optimize.properties.items()}
    if change_feed:
        props["delta.enableChangeDataFeed"] = "true"
    return props


def ensure_table(
    spark: SparkSession,
    handle: TableHandle,
    schema: StructType | str,
    *,
    props: dict[str, str] | None = None,
    partition_by: list[str] | None = None,
) -> bool:
    """Create the table with `schema` (a StructType or DDL), its partitioning and properties unless it exists (CREATE TABLE
    IF NOT EXISTS ... USING DELTA, so a concurrent creator is harmless). True when it was missing.
    A local table that exists costs no Spark call."""
    if not handle.spark_catalog and local_log_exists(handle.path):
        return False
    parts = partition_by if partition_by is not None else list(handle.config.partition_by or [])
    wanted = props if props is not None else table_properties(handle)
    empty = spark.createDataFrame([], schema)
    # A catalog table is created at the table's path (external): the writers append by path, so a managed
    # table would be another table, empty, under the same name.
    location = handle.path if handle.spark_catalog else None
    with temp_view(empty) as view:
        spark.sql(sql.create_table_sql(handle.ref, view, partition_by=parts, properties=wanted, location=location)).collect()
    return True


def append_once(df: DataFrame, path: str, *, app_id: str, version: int, run_id: str, merge_schema: bool = False) -> None:
    """Append exactly once: Delta skips a (txnAppId, txnVersion) it has already committed, so a
    micro-batch replayed after a crash is not written twice."""
    writer = df.write.format("delta").mode("append").option("txnAppId", app_id).option("txnVersion", version).option("userMetadata", run_id)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    writer.save(path)


def _merge_counts(result: DataFrame) -> dict[str, int]:
    """num_inserted_rows / num_updated_rows of a MERGE (its result is one row of commit metrics)."""
    row = result.first()
    if row is None:
        return {"inserted": 0, "updated": 0}
    d = row.asDict()
    return {"inserted": int(d.get("num_inserted_rows") or 0), "updated": int(d.get("num_updated_rows") or 0)}


def _aligned(spark: SparkSession, ref: str, source: DataFrame) -> tuple[DataFrame, bool]:
    """`source` with the target's columns it lacks added as NULLs (an earlier schema evolution), and
    whether it brings columns the target lacks (the MERGE then evolves the schema)."""
    from pyspark.sql import functions as F

    target = spark.sql(f"SELECT * FROM {ref} LIMIT 0").schema
    for f in target.fields:
        if f.name not in source.columns:
            source = source.withColumn(f.name, F.lit(None).cast(f.dataType))
    names = {f.name for f in target.fields}
    return source, any(c not in names for c in source.columns)


def merge_insert_only(spark: SparkSession, ref: str, source: DataFrame, key: str | list[str]) -> int:
    """Insert the rows whose `key` the table does not hold yet; returns how many were inserted.
    Replaying the same rows inserts nothing: the write is idempotent."""
    source, evolve = _aligned(spark, ref, source)
    with temp_view(source) as view:
        text = sql.merge_sql(ref, view, key, evolve_schema=evolve)
        return _merge_counts(spark.sql(text))["inserted"]


def merge_upsert(spark: SparkSession, ref: str, source: DataFrame, key: str | list[str]) -> int:
    """Insert new keys and update rows whose other columns changed (equal rows are left alone);
    returns inserted + updated."""
    keys = [key] if isinstance(key, str) else key
    with temp_view(source) as view:
        text = sql.merge_sql(ref, view, keys, update_columns=[c for c in source.columns if c not in keys])
        counts = _merge_counts(spark.sql(text))
    return counts["inserted"] + counts["updated"]


def commits_after(spark: SparkSession, path: str, after: int) -> list[dict[str, Any]]:
    """operation, operationMetrics and userMetadata of every commit after version `after`: read from
    the log files for a local path (no Spark job), else from DESCRIBE HISTORY."""
    import json

    if "://" not in path:
        log = Path(path) / "_delta_log"
        versions = sorted(int(f.name[:20]) for f in log.glob("*.json") if f.name[:20].isdigit()) if log.is_dir() else []
        infos = []
        for version in (v for v in versions if v > after):
            for line in (log / f"{version:020d}.json").read_text().splitlines():
                action = json.loads(line)
                if "commitInfo" in action:
                    info = action["commitInfo"]
                    infos.append(
                        {
                            "version": version,
                            "operation": info.get("operation"),
                            "operationMetrics": info.get("operationMetrics") or {},
                            "userMetadata": info.get("userMetadata"),
                        }
                    )
        return infos
    from pyspark.sql import functions as F

    hist = history(spark, path)
    if hist is None:
        return []
    rows = hist.where(F.col("version") > after).select("version", "operation", "operationMetrics", "userMetadata").collect()
    return [
        {
            "version": r["version"],
            "operation": r["operation"],
            "operationMetrics": r["operationMetrics"] or {},
            "userMetadata": r["userMetadata"],
        }
        for r in rows
    ]


def rows_committed(spark: SparkSession, path: str, run_id: str, after_version: int) -> int:
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
