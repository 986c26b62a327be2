"""Column lineage of silver: which bronze.events (and landing dimension) columns feed each column that
transform writes. Mirrors cleaning.clean_events / enrich / reviews; tests/spark/test_lineage.py checks it
against the tables transform creates."""

from __future__ import annotations

from lakectl.pipeline.bronze.lineage import ColumnMap
from lakectl.pipeline.silver.cleaning import CUSTOMER_TYPES, PRODUCT_TYPES, REVIEW_COLUMNS

BRONZE = "bronze.events"
LANDING_CUSTOMERS = "<landing:customers>"
LANDING_PRODUCTS = "<landing:products>"
_SAME = "IDENTITY"
_CHANGED = "TRANSFORMATION"


def _from_bronze(*columns: str, subtype: str = _CHANGED) -> list[tuple[str, str, str]]:
    return [(BRONZE, c, subtype) for c in columns]


SILVER_EVENTS: ColumnMap = {
    "event_id": _from_bronze("event_id"),  # trimmed, blank -> NULL
    "event_type": _from_bronze("event_type"),  # lower-cased
    "event_time": _from_bronze("event_time", subtype=_SAME),
    "event_date": _from_bronze("event_time"),
    "event_hour": _from_bronze("event_time"),
    "customer_id": _from_bronze("customer_id"),
    "session_id": _from_bronze("session_id"),
    "product_id": _from_bronze("product_id"),
    "price": _from_bronze("price", subtype=_SAME),
    "quantity": _from_bronze("quantity", subtype=_SAME),
    "revenue": _from_bronze("event_type", "price", "quantity"),  # price * quantity for a purchase, else 0
    "review_text": _from_bronze("review_text"),
    "rating": _from_bronze("rating", subtype=_SAME),
    "device": _from_bronze("device"),  # normalised to mobile/desktop/tablet/other
    "country": _from_bronze("country"),  # ISO-2 upper case
    "segment": [(LANDING_CUSTOMERS, "segment", _CHANGED)],  # joined on customer_id
    "signup_date": [(LANDING_CUSTOMERS, "signup_date", _CHANGED)],
    "category": [(LANDING_PRODUCTS, "category", _CHANGED)],  # joined on product_id
    "brand": [(LANDING_PRODUCTS, "brand", _CHANGED)],
    "list_price": [(LANDING_PRODUCTS, "list_price", _CHANGED)],
    "ingest_time": _from_bronze("ingest_time", subtype=_SAME),
}

SILVER_REVIEWS: ColumnMap = {
    **{c: SILVER_EVENTS[c] for c in REVIEW_COLUMNS if c in SILVER_EVENTS},
    "label": _from_bronze("rating"),  # 1 if rating >= 4, 0 if <= 2
}

SILVER_QUARANTINE: ColumnMap = {
    "record": [(BRONZE, c, _CHANGED) for c in SILVER_EVENTS if SILVER_EVENTS[c][0][0] == BRONZE] + [(BRONZE, "raw", _CHANGED)],
    "event_id": _from_bronze("event_id"),
}

SILVER_CUSTOMERS: ColumnMap = {c: [(LANDING_CUSTOMERS, c, _CHANGED)] for c in CUSTOMER_TYPES}
SILVER_PRODUCTS: ColumnMap = {c: [(LANDING_PRODUCTS, c, _CHANGED)] for c in PRODUCT_TYPES}

TRANSFORM_OUTPUTS: dict[str, ColumnMap] = {
    "silver.events": SILVER_EVENTS,
    "silver.reviews": SILVER_REVIEWS,
    "silver.quarantine": SILVER_QUARANTINE,
    "silver.customers": SILVER_CUSTOMERS,
    "silver.products": SILVER_PRODUCTS,
}
