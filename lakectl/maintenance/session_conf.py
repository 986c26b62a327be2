"""Spark settings scoped to a few statements, never leaked into the caller's session."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@contextmanager
def scoped_conf(spark: "SparkSession", conf: dict[str, str]) -> Iterator["SparkSession"]:
    """A session to run statements with `conf` set. On classic Spark this is `spark.newSession()`: it
    shares the SparkContext, caches and Delta logs but has its own SQL conf, so the caller's session
    (and any stream running on it) never sees the setting. Where child sessions are unavailable
    (Spark Connect), the values are set on `spark` and restored in a finally."""
    if not conf:
        yield spark
        return
    try:
        child = spark.newSession()
    except Exception:  # Spark Connect has no newSession
        child = None
    if child is not None:
        for key, value in conf.items():
            child.conf.set(key, value)
        yield child
        return
    saved = {key: spark.conf.get(key, None) for key in conf}
    try:
        for key, value in conf.items():
            spark.conf.set(key, value)
        yield spark
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


SNAPSHOT_PARTITIONS = "spark.databricks.delta.snapshotPartitions"


def small_cluster_conf(spark: "SparkSession") -> dict[str, str]:
    """Delta rebuilds table state with 50 partitions unless told otherwise; on a small local[*] session
    that is most of a maintenance statement's time. Sized to the cores unless the user set it."""
    try:
        if spark.conf.get(SNAPSHOT_PARTITIONS, None):
            return {}
        cores = int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect: the server decides
        return {}
    return {SNAPSHOT_PARTITIONS: str(max(2, cores * 2))}
