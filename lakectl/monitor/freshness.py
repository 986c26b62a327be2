"""End-to-end freshness from the Delta logs alone (delta-rs, no JVM): the newest event time each table
reflects, and its lag behind now.

bronze and silver hold `event_time`, whose per-file maximum is in the log's statistics. A gold table holds
what silver held at the version aggregate last folded in (its state, under <checkpoints>/aggregate),
so its newest event is silver's newest at that version, whether a batch `aggregate` or the gold stream of
`run --continuous` wrote it. Lag = now - newest event: on a live stream it is how long an event takes to
become visible there; when the pipeline stops it grows, which is what `max_end_to_end_lag_s` catches."""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lakectl.config import Settings
from lakectl.lake.deltars import column_lists

EVENT_TIME = "event_time"
GOLD_STATE = Path("aggregate") / "state.json"  # lakectl.pipeline.gold.refresh keeps it there


def newest_event(settings: Settings, key: str) -> datetime | None:
    """The newest event time table `key` reflects, or None when that is not known."""
    if key.startswith("gold."):
        version = _gold_silver_version(settings, key)
        return None if version is None else _max_event_time(settings.table("silver.events").path, version)
    return _max_event_time(settings.table(key).path, None)


def lag_seconds(newest: datetime | None, now: datetime | None = None) -> float | None:
    if newest is None:
        return None
    return round(((now or datetime.now(UTC)) - newest).total_seconds(), 1)


def _gold_silver_version(settings: Settings, key: str) -> int | None:
    path = settings.storage.checkpoints_dir / GOLD_STATE
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    version = (state.get("tables", state).get(key) or {}).get("silver_version")
    return None if version is None else int(version)


def _max_event_time(path: str, version: int | None) -> datetime | None:
    if version is not None:
        return _max_event_time_at(path, version)
    return _read_max_event_time(path, None)


@functools.lru_cache(maxsize=64)
def _max_event_time_at(path: str, version: int) -> datetime | None:
    return _read_max_event_time(path, version)  # a version's files never change: gold tables share silver's


def _read_max_event_time(path: str, version: int | None) -> datetime | None:
    from deltalake import DeltaTable

    if "://" not in path and not (Path(path) / "_delta_log").is_dir():
        return None
    try:
        dt = DeltaTable(path, version=version)
        values = column_lists(dt.get_add_actions(flatten=True)).get(f"max.{EVENT_TIME}") or []
    except Exception:  # no such version (vacuumed log), no statistics: not known
        return None
    found = [_utc(v) for v in values if v is not None]
    return max(found) if found else None


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):  # microseconds since the epoch, as arro3 may hand them over
        return datetime.fromtimestamp(value / 1_000_000, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
