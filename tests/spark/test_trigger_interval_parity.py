"""lakectl's up-front trigger interval check (lakectl.core.units.parse_interval) agrees with Spark's own reading
(IntervalUtils.stringToInterval, which a cast from string uses): what one accepts the other accepts, with the
same length, so the check refuses nothing Spark would run and lets through nothing Spark would refuse."""

from __future__ import annotations

import pytest

from lakectl.core.errors import UsageError
from lakectl.core.units import parse_interval

CASES = ["30 seconds", "1 second", "1 minute 30 seconds", "interval 2 hours", "500 milliseconds", "1.5 seconds", "10seconds",
         "1 DAY", "2 weeks", "5 secs", "10s", "1.5 minutes", "soon", "5", "3 microseconds", "1 hour 1 hour"]  # fmt: skip


def test_parse_interval_agrees_with_spark(spark):
    from pyspark.sql import functions as F

    previous = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "false")  # an unreadable interval is NULL, not an error
    try:
        rows = (
            spark.createDataFrame([(c,) for c in CASES], "s string")
            .select(
                "s",
                (F.col("s").cast("interval").cast("string")).alias("i"),
                F.unix_micros(F.lit("1970-01-01").cast("timestamp") + F.col("s").cast("interval")).alias("us"),
            )
            .collect()
        )
    finally:
        spark.conf.set("spark.sql.ansi.enabled", previous)
    differ = []
    for row in rows:
        try:
            ours: float | None = parse_interval(row["s"])
        except UsageError:
            ours = None
        theirs = None if row["i"] is None else row["us"] / 1e6
        if (ours is None) != (theirs is None) or (ours is not None and ours != pytest.approx(theirs)):
            differ.append((row["s"], ours, theirs))
    assert not differ
