"""Gold builders: pure silver DataFrame -> gold DataFrame functions (no I/O, no actions).

Every builder is a plain group-by over the silver rows it is given, so the aggregate job can call it
on all of silver (full refresh) or on just the rows of the days a change touched (incremental)
and get the same rows for those days. Definitions are documented in docs/aggregate.md.

Money rule: each event's revenue is rounded to cents (HALF_UP) as DECIMAL(18,2) and then summed
exactly, so totals do not depend on summation order and match any other engine bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# The silver.events and silver.review_scores columns the builders read: all that aggregate reads of them.
SILVER_COLUMNS = (
    "event_id",
    "event_type",
    "event_date",
    "event_hour",
    "customer_id",
    "session_id",
    "product_id",
    "quantity",
    "revenue",
    "rating",
    "segment",
    "category",
)
SCORE_COLUMNS = ("event_id", "score", "label", "model_version")

MONEY = "decimal(18,2)"
UNKNOWN = "unknown"  # the key value for a missing segment or category (keys stay non-null)


@dataclass(frozen=True)
class GoldSpec:
    """One gold table: its key columns, the day column used to find touched days, and its builder."""

    table: str
    keys: tuple[str, ...]
    day: str  # a column of the gold table whose date() is the event_date of the row
    build: Callable[..., DataFrame]


def _count_type(event_type: str) -> Column:
    from pyspark.sql import functions as F

    return F.count_if(F.col("event_type") == event_type).cast("long")


def _money_sum(col: Column) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(F.sum(col.cast(MONEY)), F.lit(0).cast(MONEY)).cast(MONEY)


def _ratio(num: Column, den: Column) -> Column:
    from pyspark.sql import functions as F

    return F.when(den > 0, num.cast("double") / den.cast("double"))


def _avg_rating() -> Column:
    from pyspark.sql import functions as F

    review = F.col("event_type") == "review"
    return F.avg(F.when(review, F.col("rating")).cast("double"))


def customer_behavior_daily(events: DataFrame) -> DataFrame:
    """Per (customer_id, event_date): event counts by type, revenue, reviews and their mean rating."""
    from pyspark.sql import functions as F

    return events.groupBy("customer_id", "event_date").agg(
        F.count(F.lit(1)).cast("long").alias("events"),
        _count_type("page_view").alias("views"),
        _count_type("click").alias("clicks"),
        _count_type("add_to_cart").alias("carts"),
        _count_type("purchase").alias("purchases"),
        _money_sum(F.col("revenue")).alias("revenue"),
        _count_type("review").alias("reviews"),
        _avg_rating().alias("avg_rating"),
    )


def product_performance_daily(events: DataFrame) -> DataFrame:
    """Per (product_id, event_date): funnel counts, units and revenue sold, conversion, mean rating."""
    from pyspark.sql import functions as F

    purchase = F.col("event_type") == "purchase"
    views = _count_type("page_view")
    purchases = _count_type("purchase")
    return events.groupBy("product_id", "event_date").agg(
        F.coalesce(F.max("category"), F.lit(UNKNOWN)).alias("category"),
        views.alias("views"),
        _count_type("click").alias("clicks"),
        _count_type("add_to_cart").alias("carts"),
        purchases.alias("purchases"),
        F.coalesce(F.sum(F.when(purchase, F.col("quantity"))), F.lit(0)).cast("long").alias("units"),
        _money_sum(F.col("revenue")).alias("revenue"),
        _ratio(purchases, views).alias("conversion_rate"),
        _avg_rating().alias("avg_rating"),
    )


def funnel_daily(events: DataFrame) -> DataFrame:
    """Per (event_date, segment): sessions reaching each funnel step that day, and step conversion.

    A session reaches a step on a day when it has, on that day, an event of that step AND of every
    earlier step (view -> click -> cart -> purchase); order within the day is not checked.
    """
    from pyspark.sql import functions as F

    def has(event_type: str) -> Column:
        return F.max(F.col("event_type") == event_type)

    per_session = events.groupBy("event_date", F.coalesce("segment", F.lit(UNKNOWN)).alias("segment"), "session_id").agg(
        F.first("customer_id", ignorenulls=True).alias("customer_id"),
        has("page_view").alias("v"),
        has("click").alias("c"),
        has("add_to_cart").alias("k"),
        has("purchase").alias("p"),
    )
    view = F.col("v")
    click = view & F.col("c")
    cart = click & F.col("k")
    purchase = cart & F.col("p")
    reached = per_session.select(
        "event_date",
        "segment",
        "customer_id",
        view.alias("view"),
        click.alias("click"),
        cart.alias("cart"),
        purchase.alias("purchase"),
    )
    counts = reached.groupBy("event_date", "segment").agg(
        F.count(F.lit(1)).cast("long").alias("sessions"),
        F.count_if("view").cast("long").alias("view_sessions"),
        F.count_if("click").cast("long").alias("click_sessions"),
        F.count_if("cart").cast("long").alias("cart_sessions"),
        F.count_if("purchase").cast("long").alias("purchase_sessions"),
        F.count_distinct("customer_id").cast("long").alias("customers"),
        F.count_distinct(F.when(F.col("purchase"), F.col("customer_id"))).cast("long").alias("purchasing_customers"),
    )
    return counts.select(
        "*",
        _ratio(F.col("click_sessions"), F.col("view_sessions")).alias("view_to_click_rate"),
        _ratio(F.col("cart_sessions"), F.col("click_sessions")).alias("click_to_cart_rate"),
        _ratio(F.col("purchase_sessions"), F.col("cart_sessions")).alias("cart_to_purchase_rate"),
        _ratio(F.col("purchase_sessions"), F.col("view_sessions")).alias("view_to_purchase_rate"),
    )


def kpi_hourly(events: DataFrame) -> DataFrame:
    """Per event_hour: events, revenue, orders (sessions with a purchase in that hour), active customers."""
    from pyspark.sql import functions as F

    purchase = F.col("event_type") == "purchase"
    return events.groupBy("event_hour").agg(
        F.count(F.lit(1)).cast("long").alias("events"),
        _money_sum(F.col("revenue")).alias("revenue"),
        F.count_distinct(F.when(purchase, F.col("session_id"))).cast("long").alias("orders"),
        F.count_distinct("customer_id").cast("long").alias("active_customers"),
    )


def sentiment_daily(events: DataFrame, scores: DataFrame | None = None) -> DataFrame:
    """Per (event_date, category): review sentiment from model scores where a review has one, else
    from its rating (>= 4 positive, <= 2 negative, 3 neutral). `source` says which: model | rating | mixed.

    `scores` (silver.review_scores: event_id, score, label, model_version) may hold several rows per
    review; the one with the greatest model_version (numerically, for MLflow versions) wins. label 1 = positive, 0 = negative.
    """
    from pyspark.sql import functions as F

    reviews = events.where(F.col("event_type") == "review").select(
        "event_id", "event_date", F.coalesce("category", F.lit(UNKNOWN)).alias("category"), "rating"
    )
    if scores is not None:
        latest = scores.groupBy("event_id").agg(
            # padded so that version "10" sorts after "9"
            F.max_by(F.struct("score", "label", "model_version"), F.lpad("model_version", 12, "0")).alias("s")
        )
        reviews = reviews.join(latest.select("event_id", "s.score", "s.label", "s.model_version"), "event_id", "left")
    else:
        reviews = reviews.select(
            "*", *(F.lit(None).cast(t).alias(n) for n, t in (("score", "double"), ("label", "int"), ("model_version", "string")))
        )
    scored = F.col("model_version").isNotNull()
    positive = F.when(scored, F.col("label") == 1).otherwise(F.col("rating") >= 4)
    negative = F.when(scored, F.col("label") == 0).otherwise(F.col("rating") <= 2)
    agg = reviews.groupBy("event_date", "category").agg(
        F.count(F.lit(1)).cast("long").alias("reviews"),
        F.avg(F.col("rating").cast("double")).alias("avg_rating"),
        F.avg(F.col("score").cast("double")).alias("avg_score"),
        F.count_if(positive).cast("long").alias("positive"),
        F.count_if(negative).cast("long").alias("negative"),
        F.count_if(scored).cast("long").alias("scored_reviews"),
        F.max("model_version").alias("model_version"),
    )
    return agg.select(
        "event_date",
        "category",
        "reviews",
        "avg_rating",
        "avg_score",
        "positive",
        "negative",
        (F.col("reviews") - F.col("positive") - F.col("negative")).alias("neutral"),
        "scored_reviews",
        F.when(F.col("scored_reviews") == 0, F.lit("rating"))
        .when(F.col("scored_reviews") == F.col("reviews"), F.lit("model"))
        .otherwise(F.lit("mixed"))
        .alias("source"),
        "model_version",
    )


GOLD: tuple[GoldSpec, ...] = (
    GoldSpec("gold.customer_behavior_daily", ("customer_id", "event_date"), "event_date", customer_behavior_daily),
    GoldSpec("gold.product_performance_daily", ("product_id", "event_date"), "event_date", product_performance_daily),
    GoldSpec("gold.funnel_daily", ("event_date", "segment"), "event_date", funnel_daily),
    GoldSpec("gold.kpi_hourly", ("event_hour",), "event_hour", kpi_hourly),
    GoldSpec("gold.sentiment_daily", ("event_date", "category"), "event_date", sentiment_daily),
)


def spec_of(table: str) -> GoldSpec:
    for spec in GOLD:
        if spec.table == table:
            return spec
    raise KeyError(table)
