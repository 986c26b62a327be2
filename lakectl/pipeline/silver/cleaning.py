"""Silver: pure DataFrame -> DataFrame functions that type, clean, normalise and enrich bronze events.

No I/O here; transform's batch writer (lakectl.pipeline.silver.writer) checks and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakectl.pipeline.bronze.parse import EVENT_FIELDS, SOURCE_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import StructType

# The bronze.events schema transform was written for (what lakectl ingest writes).
EXPECTED_BRONZE: dict[str, str] = {
    **{n: t for n, t in EVENT_FIELDS},
    "raw": "string",
    **{n: t for n, t in SOURCE_COLUMNS},
    "ingest_time": "timestamp",
    "ingest_run_id": "string",
    "batch_id": "bigint",
}
RESCUED = "_rescued"

# silver.events in contract order (types in SILVER_EVENT_TYPES).
SILVER_EVENT_TYPES: dict[str, str] = {
    "event_id": "string",
    "event_type": "string",
    "event_time": "timestamp",
    "event_date": "date",
    "event_hour": "timestamp",
    "customer_id": "string",
    "session_id": "string",
    "product_id": "string",
    "price": "double",
    "quantity": "int",
    "revenue": "double",
    "review_text": "string",
    "rating": "int",
    "device": "string",
    "country": "string",
    "segment": "string",
    "signup_date": "date",
    "category": "string",
    "brand": "string",
    "list_price": "double",
    "ingest_time": "timestamp",
    "processed_time": "timestamp",
    "run_id": "string",
}
SILVER_EVENT_COLUMNS = list(SILVER_EVENT_TYPES)
REVIEW_COLUMNS = ["event_id", "event_time", "event_date", "customer_id", "product_id", "category", "review_text", "rating", "label"]
CUSTOMER_TYPES = {
    "customer_id": "string",
    "segment": "string",
    "signup_date": "date",
    "country": "string",
    "preferred_device": "string",
    "age_band": "string",
}
PRODUCT_TYPES = {"product_id": "string", "name": "string", "category": "string", "brand": "string", "list_price": "double"}
DEVICES = ("mobile", "desktop", "tablet", "other")
_DEVICE_ALIASES = {
    "mobile": ("mobile", "iphone", "android", "phone", "smartphone"),
    "tablet": ("tablet", "ipad"),
    "desktop": ("desktop", "pc", "mac", "laptop", "web"),
}


@dataclass
class Drift:
    """How a bronze schema differs from EXPECTED_BRONZE."""

    new: dict[str, str] = field(default_factory=dict)  # column -> its type
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (expected, actual)
    missing: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.changed or self.missing)

    def describe(self) -> str:
        parts = [f"new column {c} ({t})" for c, t in self.new.items()]
        parts += [f"{c} changed type {e} -> {a}" for c, (e, a) in self.changed.items()]
        parts += [f"column {c} is missing" for c in self.missing]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {"new": self.new, "changed": {c: list(v) for c, v in self.changed.items()}, "missing": self.missing}


def detect_drift(schema: StructType, expected: dict[str, str] = EXPECTED_BRONZE) -> Drift:
    return drift_of({f.name: f.dataType.simpleString() for f in schema.fields}, expected)


def drift_of(actual: dict[str, str], expected: dict[str, str] = EXPECTED_BRONZE) -> Drift:
    """The drift between bronze's columns (name -> Spark simpleString) and what transform expects."""
    drift = Drift()
    for name, kind in actual.items():
        if name not in expected:
            drift.new[name] = kind
        elif expected[name] != kind:
            drift.changed[name] = (expected[name], kind)
    drift.missing = [n for n in expected if n not in actual]
    return drift


def _typed(col: Column, kind: str) -> Column:
    """A value of another type converted to `kind`; NULL when it does not convert."""
    from pyspark.sql import functions as F

    text = col.cast("string")
    if kind == "timestamp":
        return F.try_to_timestamp(text)
    if kind == "string":
        return text
    return text.try_cast(kind)


def conform_bronze(df: DataFrame, drift: Drift, mode: str) -> DataFrame:
    """Bronze rows in the expected schema. `rescue`: unknown columns, and values of a changed type that
    do not convert, go to a `_rescued` JSON string column. `add`: unknown columns are kept as columns
    (silver's schema evolves); unconvertible values of a changed type are rescued as above."""
    from pyspark.sql import functions as F

    if not drift:
        return df
    for name in drift.missing:
        df = df.withColumn(name, F.lit(None).cast(EXPECTED_BRONZE[name]))
    rescued: list[Column] = []
    converted: dict[str, Column] = {}
    for name, (kind, _) in drift.changed.items():
        original = df[name]
        converted[name] = _typed(original, kind)
        original_json = F.to_json(F.struct(original.alias("v")))  # any type, as JSON
        rescued.append(F.when(original.isNotNull() & converted[name].isNull(), F.get_json_object(original_json, "$.v")).alias(name))
    if mode == "rescue":
        rescued += [df[name].alias(name) for name in drift.new]
    blob = F.to_json(F.struct(*rescued)) if rescued else None
    # One select, so every expression above still sees the original (unconverted) columns.
    df = df.select(
        *[converted[c].alias(c) if c in converted else df[c] for c in df.columns],
        *([F.when(blob != "{}", blob).alias(RESCUED)] if blob is not None else []),
    )
    if mode == "rescue" and drift.new:
        df = df.drop(*drift.new)
    return df


def normalise_device(col: Column) -> Column:
    """lowercase; iphone/android/mobile -> mobile, ipad -> tablet, desktop aliases -> desktop, else other."""
    from pyspark.sql import functions as F

    value = F.lower(F.trim(col))
    out = F.lit("other")
    for device, aliases in _DEVICE_ALIASES.items():
        out = F.when(value.isin(*aliases), F.lit(device)).otherwise(out)
    return out


def normalise_country(col: Column) -> Column:
    """ISO-2 upper case, trimmed; blank -> NULL (a rule checks the shape)."""
    from pyspark.sql import functions as F

    value = F.upper(F.trim(col))
    return F.when(value != "", value)


def _text(col: Column) -> Column:
    from pyspark.sql import functions as F

    value = F.trim(col)
    return F.when(value != "", value)


def clean_events(df: DataFrame) -> DataFrame:
    """Typed, trimmed, normalised event columns + event_date/event_hour/revenue. Keeps `raw`, `_rescued`
    and any evolved columns; the bronze-only coordinates are dropped."""
    from pyspark.sql import functions as F

    event_type = F.lower(F.trim(F.col("event_type")))
    cleaned = {
        "event_id": _text(F.col("event_id")),
        "event_type": event_type,
        "event_time": F.col("event_time"),
        "event_date": F.to_date(F.col("event_time")),
        "event_hour": F.date_trunc("hour", F.col("event_time")),
        "customer_id": _text(F.col("customer_id")),
        "session_id": _text(F.col("session_id")),
        "product_id": _text(F.col("product_id")),
        "price": F.col("price"),
        "quantity": F.col("quantity"),
        "revenue": F.when(event_type == "purchase", F.coalesce(F.col("price") * F.col("quantity"), F.lit(0.0))).otherwise(F.lit(0.0)),
        "review_text": _text(F.col("review_text")),
        "rating": F.col("rating"),
        "device": normalise_device(F.col("device")),
        "country": normalise_country(F.col("country")),
        "ingest_time": F.col("ingest_time"),
    }
    extras = [c for c in df.columns if c not in EXPECTED_BRONZE]  # _rescued and evolved columns
    return df.select(*[c.alias(n) for n, c in cleaned.items()], "raw", *extras)


def clean_customers(df: DataFrame, keep: tuple[str, ...] = (), dedupe: bool = True) -> DataFrame:
    """Typed, trimmed rows with a key; `keep` columns pass through; `dedupe=False` leaves conflicts to the caller."""
    from pyspark.sql import functions as F

    out = df.select(
        _text(F.col("customer_id")).alias("customer_id"),
        F.lower(_text(F.col("segment"))).alias("segment"),
        F.try_to_date(F.col("signup_date").cast("string")).alias("signup_date"),
        normalise_country(F.col("country")).alias("country"),
        normalise_device(F.col("preferred_device")).alias("preferred_device"),
        _text(F.col("age_band")).alias("age_band"),
        *keep,
    ).where(F.col("customer_id").isNotNull())
    return out.dropDuplicates(["customer_id"]) if dedupe else out


def clean_products(df: DataFrame, keep: tuple[str, ...] = (), dedupe: bool = True) -> DataFrame:
    """Typed, trimmed rows with a key; `keep` columns pass through; `dedupe=False` leaves conflicts to the caller."""
    from pyspark.sql import functions as F

    out = df.select(
        _text(F.col("product_id")).alias("product_id"),
        _text(F.col("name")).alias("name"),
        F.lower(_text(F.col("category"))).alias("category"),
        _text(F.col("brand")).alias("brand"),
        F.col("list_price").cast("string").try_cast("double").alias("list_price"),
        *keep,
    ).where(F.col("product_id").isNotNull())
    return out.dropDuplicates(["product_id"]) if dedupe else out


def enrich(events: DataFrame, customers: DataFrame, products: DataFrame) -> DataFrame:
    """Left broadcast joins with the (small) dimensions: segment, signup_date, category, brand, list_price."""
    from pyspark.sql import functions as F

    cust = customers.select("customer_id", "segment", "signup_date")
    prod = products.select("product_id", "category", "brand", "list_price")
    return events.join(F.broadcast(cust), "customer_id", "left").join(F.broadcast(prod), "product_id", "left")


def to_silver(df: DataFrame, run_id: str) -> DataFrame:
    """Contract order, processed_time and run_id; extra columns (`_rescued`, evolved) go last."""
    from pyspark.sql import functions as F

    df = df.withColumn("processed_time", F.current_timestamp()).withColumn("run_id", F.lit(run_id))
    extras = [c for c in df.columns if c not in SILVER_EVENT_TYPES]
    return df.select(*[F.col(c).cast(t).alias(c) for c, t in SILVER_EVENT_TYPES.items()], *extras)


def reviews(silver: DataFrame) -> DataFrame:
    """silver.reviews: review events with the training label (1 if rating >= 4, 0 if <= 2, NULL for 3)."""
    from pyspark.sql import functions as F

    label = F.when(F.col("rating") >= 4, 1).when(F.col("rating") <= 2, 0).cast("int")
    return silver.where(F.col("event_type") == "review").select(*REVIEW_COLUMNS[:-1], label.alias("label"))
