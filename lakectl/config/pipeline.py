"""The stages' settings: `ingest`, `transform` (expectations, schema drift) and `aggregate`."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from lakectl.core.errors import UsageError
from lakectl.core.typed import Struct
from lakectl.core.units import parse_interval, parse_size


class Expectation(Struct):
    name: Annotated[str, Meta(min_length=1)]
    expr: Annotated[str, Meta(min_length=1)]  # a SQL predicate that is TRUE for a good row (NULL counts as failed)
    action: Literal["warn", "drop", "quarantine", "fail"] = "quarantine"
    table: Literal["silver.events"] = "silver.events"


def default_expectations() -> list[Expectation]:
    """The rules silver.events gets when the config names none (see docs/transform.md)."""
    rules = [
        ("event_type_known", "event_type IN ('page_view', 'click', 'add_to_cart', 'purchase', 'review')", "quarantine"),
        ("event_time_present", "event_time IS NOT NULL", "quarantine"),
        ("event_time_not_future", "event_time <= current_timestamp() + INTERVAL 1 DAY", "quarantine"),
        ("customer_id_present", "customer_id IS NOT NULL", "quarantine"),
        ("price_range", "price IS NULL OR (price >= 0 AND price <= 100000)", "quarantine"),
        ("price_present_for_sales", "event_type NOT IN ('add_to_cart', 'purchase') OR price IS NOT NULL", "quarantine"),
        ("quantity_range", "quantity IS NULL OR quantity BETWEEN 1 AND 1000", "quarantine"),
        ("rating_range", "rating IS NULL OR rating BETWEEN 1 AND 5", "quarantine"),
        ("review_has_rating", "event_type <> 'review' OR rating IS NOT NULL", "quarantine"),
        ("country_iso2", "country IS NULL OR country RLIKE '^[A-Z]{2}$'", "warn"),
        ("known_customer", "segment IS NOT NULL", "warn"),
        ("known_product", "product_id IS NULL OR category IS NOT NULL", "warn"),
    ]
    return [Expectation(name=n, expr=e, action=a) for n, e, a in rules]  # type: ignore[arg-type]


class TransformSettings(Struct):
    expectations: list[Expectation] = field(default_factory=default_expectations)
    schema_drift: Literal["rescue", "add", "fail"] = "rescue"
    max_bytes_per_trigger: str | int | None = None  # bronze bytes per micro-batch; default: an eighth of the driver memory
    # Which landing row of a dimension key wins: the latest to arrive (newest file, then the last line), the one
    # with the latest `dimension_timestamp` (then by arrival), or `fail` when one file holds differing rows for a key.
    dimension_conflicts: Literal["latest_by_arrival", "latest_by_timestamp", "fail"] = "latest_by_arrival"
    dimension_timestamp: Annotated[str, Meta(min_length=1)] = "updated_at"

    def __post_init__(self) -> None:
        _check_size(self.max_bytes_per_trigger)


class IngestSettings(Struct):
    trigger_interval: str = "10 seconds"
    # Source bytes per micro-batch (files; Kafka and Event Hubs as records of ~1 KiB when
    # max_offsets_per_trigger is unset); default: an eighth of the driver memory.
    max_bytes_per_trigger: str | int | None = None

    def __post_init__(self) -> None:
        _check_size(self.max_bytes_per_trigger)
        try:
            parse_interval(self.trigger_interval)
        except UsageError as exc:
            raise ValueError(f"trigger_interval: {exc.message}; {exc.hint}") from None


def _check_size(value: str | int | None) -> None:
    try:
        ok = value is None or (parse_size(value) or 0) >= 1
    except UsageError:
        ok = False
    if not ok:
        raise ValueError(f"max_bytes_per_trigger must be a size like 128m, 1g or 1048576, not {value!r}")


class AggregateSettings(Struct):
    """`lakectl aggregate`: when an incremental refresh gives way to a full recompute."""

    full_refresh_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.5  # share of all days touched by new silver rows
