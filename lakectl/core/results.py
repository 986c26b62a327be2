"""Results are data: every job returns a Result that renders as a table or as JSON."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any


def json_default(value: Any) -> Any:
    """JSON for what json cannot encode itself: timestamps in ISO 8601 with their zone (a naive one is UTC,
    the session time zone of every lakectl Spark session), dates in ISO 8601, anything else as its str."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Result:
    """What a job did. `metrics` holds the job's own figures and is flattened into the JSON."""

    job: str
    status: str = "ok"
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    tables_read: list[str] = field(default_factory=list)
    tables_written: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        metrics = data.pop("metrics")
        for key, value in metrics.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        known = {f for f in cls.__dataclass_fields__}
        base = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        base.setdefault("metrics", {}).update(extra)
        return cls(**base)


def _plain(value: Any) -> Any:
    """dataclasses.asdict without its deep copy of every leaf value (a plan of 1,000 grants: ~10,000
    deepcopy calls): dataclasses become dicts, lists, tuples and dicts are rebuilt, leaves are shared."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return type(value)(*(_plain(v) for v in value)) if hasattr(value, "_fields") else tuple(_plain(v) for v in value)
    return value


class Timer:
    """Context manager measuring wall time in seconds."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = round(time.perf_counter() - self.start, 3)
