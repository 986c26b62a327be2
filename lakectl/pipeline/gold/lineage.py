"""Column lineage of gold: the silver.events (and silver.review_scores) columns each gold column is computed
from. Mirrors builders.py; a test checks every column against the tables aggregate creates and every source
against the columns the builders read (builders.SILVER_COLUMNS, SCORE_COLUMNS)."""

from __future__ import annotations

from lakectl.pipeline.bronze.lineage import ColumnMap

SILVER = "silver.events"
SCORES = "silver.review_scores"
_SAME, _AGG = "IDENTITY", "AGGREGATION"


def _s(*columns: str, subtype: str = _AGG) -> list[tuple[str, str, str]]:
    return [(SILVER, c, subtype) for c in columns]


def _counts(*names: str) -> ColumnMap:  # counts of one event type
    return {n: _s("event_type") for n in names}


GOLD_COLUMNS: dict[str, ColumnMap] = {
    "gold.customer_behavior_daily": {
        "customer_id": _s("customer_id", subtype=_SAME),
        "event_date": _s("event_date", subtype=_SAME),
        "events": _s("event_id"),
        **_counts("views", "clicks", "carts", "purchases", "reviews"),
        "revenue": _s("revenue"),
        "avg_rating": _s("rating", "event_type"),
    },
    "gold.product_performance_daily": {
        "product_id": _s("product_id", subtype=_SAME),
        "event_date": _s("event_date", subtype=_SAME),
        "category": _s("category"),
        **_counts("views", "clicks", "carts", "purchases"),
        "units": _s("quantity", "event_type"),
        "revenue": _s("revenue"),
        "conversion_rate": _s("event_type"),
        "avg_rating": _s("rating", "event_type"),
    },
    "gold.funnel_daily": {
        "event_date": _s("event_date", subtype=_SAME),
        "segment": _s("segment", subtype="TRANSFORMATION"),
        "sessions": _s("session_id"),
        **{n: _s("session_id", "event_type") for n in ("view_sessions", "click_sessions", "cart_sessions", "purchase_sessions")},
        "customers": _s("customer_id"),
        "purchasing_customers": _s("customer_id", "session_id", "event_type"),
        **{
            n: _s("session_id", "event_type")
            for n in ("view_to_click_rate", "click_to_cart_rate", "cart_to_purchase_rate", "view_to_purchase_rate")
        },
    },
    "gold.kpi_hourly": {
        "event_hour": _s("event_hour", subtype=_SAME),
        "events": _s("event_id"),
        "revenue": _s("revenue"),
        "orders": _s("session_id", "event_type"),
        "active_customers": _s("customer_id"),
    },
    "gold.sentiment_daily": {
        "event_date": _s("event_date", subtype=_SAME),
        "category": _s("category", subtype="TRANSFORMATION"),
        "reviews": _s("event_type"),
        "avg_rating": _s("rating", "event_type"),
        "avg_score": [(SCORES, "score", _AGG)],
        **{n: _s("rating", "event_type") + [(SCORES, "label", _AGG)] for n in ("positive", "negative", "neutral")},
        "scored_reviews": [(SCORES, "model_version", _AGG)],
        "source": [(SCORES, "model_version", _AGG)],
        "model_version": [(SCORES, "model_version", _AGG)],
    },
}
