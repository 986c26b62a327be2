"""The latest rows of gold.kpi_hourly for the report, read with delta-rs (no JVM)."""

from __future__ import annotations

from typing import Any

from lakectl.config import Settings
from lakectl.lake.deltars import arrow, open_table

TABLE = "gold.kpi_hourly"


def latest_kpis(settings: Settings, hours: int = 6) -> list[dict[str, Any]] | None:
    """The newest `hours` rows, newest first; None when the table does not exist (yet)."""
    dt = open_table(settings.table(TABLE).path)
    if dt is None:
        return None
    from deltalake import QueryBuilder

    sql = f"SELECT * FROM kpi ORDER BY event_hour DESC LIMIT {int(hours)}"
    return arrow(QueryBuilder().register("kpi", dt).execute(sql)).to_pylist()
