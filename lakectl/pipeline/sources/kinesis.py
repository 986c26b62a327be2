"""Kinesis source: Databricks Runtime's built-in `kinesis` streaming source. Open-source Spark has
none, so on a local or plain Spark target this source stops with one line pointing to Databricks."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from lakectl.config import KinesisSource
from lakectl.core.errors import UsageError
from lakectl.pipeline.bronze.parse import with_source_columns

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def on_databricks() -> bool:
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def require_databricks() -> None:
    if not on_databricks():
        raise UsageError(
            "the kinesis source needs a Databricks target: only Databricks Runtime has Spark's `kinesis` source",
            "run `lakectl --target <your databricks target> ingest --source kinesis`, or use --source kafka|files locally",
        )


def identity(cfg: KinesisSource) -> dict[str, Any]:
    return {"source": "kinesis", "stream": cfg.stream_name, "region": cfg.region, "endpoint": cfg.endpoint_url}


def read_stream(spark: SparkSession, cfg: KinesisSource) -> DataFrame:
    """Kinesis records as bronze rows: data -> value; stream, partition key and arrival time in the
    source columns (shard and sequence number do not fit Kafka's int partition / long offset)."""
    from pyspark.sql import functions as F

    reader = (
        spark.readStream.format("kinesis")
        .option("streamName", cfg.stream_name)
        .option("region", cfg.region)
        .option("initialPosition", cfg.initial_position)
    )
    if cfg.endpoint_url:
        reader = reader.option("endpoint", cfg.endpoint_url)
    df = reader.load()
    return with_source_columns(
        df.select(F.col("data").cast("string").alias("value"), "stream", "partitionKey", "approximateArrivalTimestamp"),
        source=F.lit("kinesis"),
        kafka_topic=F.col("stream"),
        kafka_key=F.col("partitionKey"),
        kafka_timestamp=F.col("approximateArrivalTimestamp"),
    ).drop("stream", "partitionKey", "approximateArrivalTimestamp")
