"""The Spark session of a job running inside a Databricks run: the runtime's own (Delta built in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def runtime_session() -> SparkSession:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # every lakectl job assumes it (the local runner sets it too)
    return spark
