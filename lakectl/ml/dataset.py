"""The training set: silver.reviews at a recorded Delta version, labels from ratings, and a split
by a hash of event_id, so a review is on the same side in every run and at every table version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from lakectl.config import MLSettings

SPLITS = ("train", "validation", "test")
TEXT = "review_text"


@dataclass
class TrainingSet:
    table: str
    path: str
    version: int
    rows: DataFrame  # event_id, review_text, label, split
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> {"positive": n, "negative": n}

    def part(self, split: str) -> DataFrame:
        from pyspark.sql import functions as F

        return self.rows.where(F.col("split") == split)

    @property
    def labelled(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def label_column(ml: MLSettings) -> Column:
    """1 for rating >= positive_min_rating, 0 for <= negative_max_rating, NULL in between."""
    from pyspark.sql import functions as F

    rating = F.col("rating")
    return F.when(rating >= ml.positive_min_rating, 1).when(rating <= ml.negative_max_rating, 0).cast("int")


def split_column(ml: MLSettings) -> Column:
    """train / validation / test from xxhash64(seed, event_id): stable across runs and versions."""
    from pyspark.sql import functions as F

    bucket = F.pmod(F.xxhash64(F.lit(ml.split.seed), F.col("event_id")), F.lit(1_000_000)) / F.lit(1_000_000.0)
    train, validation = ml.split.train, ml.split.train + ml.split.validation
    return F.when(bucket < train, "train").when(bucket < validation, "validation").otherwise("test")


def load(spark: SparkSession, table: str, path: str, version: int, ml: MLSettings) -> TrainingSet:
    """The labelled reviews with text at `version`, cached, with their counts per split and label."""
    from pyspark.sql import functions as F

    reviews = spark.read.format("delta").option("versionAsOf", version).load(path)
    rows = (
        reviews.where(F.col(TEXT).isNotNull() & (F.length(F.trim(F.col(TEXT))) > 0))
        .select("event_id", TEXT, label_column(ml).alias("label"))
        .where(F.col("label").isNotNull())
        .select("event_id", TEXT, F.col("label").cast("double").alias("label"), split_column(ml).alias("split"))
        .cache()
    )
    counts: dict[str, dict[str, int]] = {s: {"positive": 0, "negative": 0} for s in SPLITS}
    for r in rows.groupBy("split", "label").count().collect():
        counts[r["split"]]["positive" if r["label"] == 1 else "negative"] = int(r["count"])
    return TrainingSet(table=table, path=path, version=version, rows=rows, counts=counts)
