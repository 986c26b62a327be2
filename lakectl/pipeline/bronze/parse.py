"""The event schema and the bronze parse: raw records -> typed columns, or a quarantine reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

EVENT_TYPES = ("page_view", "click", "add_to_cart", "purchase", "review")

# (column, Spark type) in the order bronze and silver keep them.
EVENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("event_id", "string"),
    ("event_type", "string"),
    ("event_time", "timestamp"),
    ("customer_id", "string"),
    ("session_id", "string"),
    ("product_id", "string"),
    ("price", "double"),
    ("quantity", "int"),
    ("review_text", "string"),
    ("rating", "int"),
    ("device", "string"),
    ("country", "string"),
)
TYPED_FIELDS = tuple(name for name, kind in EVENT_FIELDS if kind != "string")

# Source coordinates every bronze row carries; a source fills the ones it has, the rest stay null.
SOURCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", "string"),
    ("source_file", "string"),
    ("kafka_topic", "string"),
    ("kafka_partition", "int"),
    ("kafka_offset", "bigint"),
    ("kafka_timestamp", "timestamp"),
    ("kafka_key", "string"),
    ("kafka_headers", "map<string,string>"),
)
CORRUPT = "_corrupt_record"


def raw_schema_ddl() -> str:
    """Every field read as a string, so a wrong type is detected and reported, not nulled silently."""
    return ", ".join(f"`{name}` string" for name, _ in EVENT_FIELDS) + f", `{CORRUPT}` string"


def with_source_columns(df: DataFrame, **present: Column) -> DataFrame:
    """Add every source coordinate column: the given ones as they are, the rest as typed nulls."""
    from pyspark.sql import functions as F

    for name, kind in SOURCE_COLUMNS:
        df = df.withColumn(name, present[name].cast(kind) if name in present else F.lit(None).cast(kind))
    return df


def parse_events(df: DataFrame) -> DataFrame:
    """`df` has a string column `value` (one raw record). Adds the typed event columns and `reason`
    (null for a good record, else a comma-separated list of what is wrong with it)."""
    from pyspark.sql import functions as F

    parsed = F.from_json(F.col("value"), raw_schema_ddl(), {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})
    df = df.withColumn("_p", parsed)
    typed = {}
    for name, kind in EVENT_FIELDS:
        raw = F.col(f"_p.{name}")
        if kind == "timestamp":
            typed[name] = F.try_to_timestamp(raw)
        elif kind == "string":
            typed[name] = raw
        else:
            typed[name] = raw.try_cast(kind)
    checks = [
        F.when(F.col(f"_p.{CORRUPT}").isNotNull() | F.col("_p").isNull(), F.lit("malformed_json")),
        F.when(
            F.col(f"_p.{CORRUPT}").isNull() & (F.col("_p.event_id").isNull() | (F.trim(F.col("_p.event_id")) == "")),
            F.lit("missing_event_id"),
        ),
        F.when(
            F.col(f"_p.{CORRUPT}").isNull() & ~F.coalesce(F.col("_p.event_type").isin(*EVENT_TYPES), F.lit(False)),
            F.lit("unknown_event_type"),
        ),
        F.when(F.col(f"_p.{CORRUPT}").isNull() & F.col("_p.event_time").isNull(), F.lit("missing_event_time")),
    ]
    for name in TYPED_FIELDS:
        checks.append(F.when(F.col(f"_p.{name}").isNotNull() & typed[name].isNull(), F.lit(f"type_mismatch:{name}")))
    reason = F.concat_ws(",", F.array_compact(F.array(*checks)))
    df = df.select("*", *[c.alias(n) for n, c in typed.items()], F.when(reason != "", reason).alias("reason"))
    return df.drop("_p")
