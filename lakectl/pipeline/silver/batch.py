"""What one transform micro-batch becomes: bronze rows shaped into silver rows, checked against the
rules, deduplicated on event_id, and split into silver, quarantine and ops.dq_metrics rows.

DataFrame functions only: nothing here writes (lakectl.pipeline.silver.writer does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.core.sql import quote_ident
from lakectl.pipeline.silver import cleaning as silver
from lakectl.pipeline.silver.expectations import FAILED, OUTCOME, Rule, drop_check_columns, with_checks

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakectl.pipeline.silver.dimensions import Dimensions

DQ_SCHEMA = "run_id string, table string, rule string, action string, rows_checked long, rows_passed long, rows_failed long"
DQ_SCHEMA_FULL = DQ_SCHEMA + ", recorded_at timestamp"
_RECORD = "_quarantine_record"


def prepare(bronze: DataFrame, drift: silver.Drift, mode: str, dims: Dimensions, run_id: str) -> DataFrame:
    """Bronze rows -> silver-shaped rows (still with `raw`, before checks and dedup)."""
    conformed = silver.conform_bronze(bronze, drift, mode)
    enriched = silver.enrich(silver.clean_events(conformed), dims.customers, dims.products)
    return silver.to_silver(enriched, run_id)


def check_and_dedup(rows: DataFrame, rules: list[Rule]) -> DataFrame:
    """Silver-shaped rows with every rule's check, the outcome, the quarantine record and `_dup`
    (a later copy of an event_id within the batch)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    record = F.to_json(F.struct(*[F.col(quote_ident(c)) for c in rows.columns]))
    # The quarantine record is built before `raw` is dropped, and only for rows that need it: the
    # raw payload is most of a row's bytes, and the dedup shuffle and the cache need none of it.
    checked = with_checks(rows, rules)
    checked = checked.select("*", F.when(F.col(OUTCOME) == "quarantine", record).alias(_RECORD), F.xxhash64("raw").alias("_raw_hash")).drop(
        "raw"
    )
    first = Window.partitionBy("event_id").orderBy(F.col("ingest_time").asc_nulls_last(), F.col("_raw_hash"))
    return checked.withColumn("_dup", F.col("event_id").isNotNull() & (F.row_number().over(first) > 1)).drop("_raw_hash")


def good_rows(checked: DataFrame, rules: list[Rule]) -> DataFrame:
    from pyspark.sql import functions as F

    ok = ~F.col("_dup") & (F.col(OUTCOME) == "ok")
    return drop_check_columns(checked.where(ok), rules).drop("_dup", _RECORD)


def quarantine_rows(checked: DataFrame, run_id: str) -> DataFrame:
    from pyspark.sql import functions as F

    return checked.where(~F.col("_dup") & (F.col(OUTCOME) == "quarantine")).select(
        F.col(_RECORD).alias("record"),
        F.col(FAILED).alias("rules"),
        "event_id",
        F.lit(run_id).alias("run_id"),
        F.current_timestamp().alias("quarantined_at"),
    )


def dq_frame(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    from pyspark.sql import functions as F

    return spark.createDataFrame(rows, DQ_SCHEMA).withColumn("recorded_at", F.current_timestamp())
