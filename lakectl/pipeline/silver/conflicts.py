"""Which landing row of a dimension key wins (transform.dimension_conflicts), and how many keys conflict.

Every landing row carries where it came from: its file, the file's modification time (its arrival) and
its line order. `latest_by_arrival` keeps the row of the newest file, and within a file the last line;
`latest_by_timestamp` keeps the row with the latest `transform.dimension_timestamp` (rows without one
last), then by arrival. A conflict is a key with differing rows in one file: the source contradicts
itself. Differing rows in different files are updates, resolved by the same rule without counting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.core.errors import JobFailed

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

ORIGIN = ("_file", "_arrived", "_line", "_ts")


def with_origin(df: DataFrame, timestamp: Column | None) -> DataFrame:
    """The landing rows with their file, arrival time, line order and (for latest_by_timestamp) timestamp."""
    from pyspark.sql import functions as F

    return df.select(
        "*",
        F.col("_metadata.file_path").alias("_file"),
        F.col("_metadata.file_modification_time").alias("_arrived"),
        F.monotonically_increasing_id().alias("_line"),
        (timestamp if timestamp is not None else F.lit(None).cast("timestamp")).alias("_ts"),
    )


def resolve(df: DataFrame, key: str) -> DataFrame:
    """One row per key: the latest by timestamp (when set), then by arrival; without the origin columns."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy(key).orderBy(
        F.col("_ts").desc_nulls_last(), F.col("_arrived").desc(), F.col("_file").desc(), F.col("_line").desc()
    )
    return df.withColumn("_rank", F.row_number().over(order)).where("_rank = 1").drop("_rank", *ORIGIN)


def conflicting(df: DataFrame, key: str, columns: list[str]) -> DataFrame:
    """(key, file) pairs whose file holds more than one differing row for the key."""
    return df.select(key, "_file", *columns).distinct().groupBy(key, "_file").count().where("count > 1").select(key, "_file")


def count_conflicts(df: DataFrame, key: str, columns: list[str]) -> int:
    return conflicting(df, key, columns).select(key).distinct().count()


def refuse_conflicts(df: DataFrame, key: str, columns: list[str], dimension: str) -> None:
    """transform.dimension_conflicts: fail — stop before anything is written, naming a key and its file."""
    pairs = conflicting(df, key, columns).orderBy(key, "_file").collect()
    if not pairs:
        return
    keys = len({r[key] for r in pairs})
    first = pairs[0]
    raise JobFailed(
        f"{dimension}: {keys} {key}(s) with differing rows in one landing file, e.g. {first[key]} in "
        f"{first['_file'].rsplit('/', 1)[-1]} (transform.dimension_conflicts: fail); nothing was committed",
        "fix the file, or set transform.dimension_conflicts to latest_by_arrival or latest_by_timestamp",
    )
