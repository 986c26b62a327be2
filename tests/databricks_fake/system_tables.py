"""Unity Catalog's lineage system tables for the fake warehouse: `system.access.table_lineage` and
`system.access.column_lineage` with the service's columns, held as views in the warehouse engine's Spark
session (open-source Spark has no `system` catalog; statements naming them are pointed at the views).

What the service records and a test must load as such: one row per read or write event, so many rows per
pair of tables (one per run); a NULL source for a write that read no table, a NULL target for a plain read;
a path and NULL names where a table has no name; rows in no particular order; `event_date` the day of
`event_time`, kept for a year.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_ENTITY = ["account_id", "metastore_id", "workspace_id", "entity_type", "entity_id", "entity_run_id"]
_SIDE = ["table_full_name", "table_catalog", "table_schema", "table_name", "path", "type"]
_TAIL = ["created_by", "event_time", "event_date", "record_id", "event_id", "statement_id"]
TABLE_LINEAGE = _ENTITY + [f"source_{c}" for c in _SIDE] + [f"target_{c}" for c in _SIDE] + _TAIL
COLUMN_LINEAGE = (
    _ENTITY + [f"source_{c}" for c in _SIDE] + ["source_column_name"] + [f"target_{c}" for c in _SIDE] + ["target_column_name"] + _TAIL
)
_NAMES = re.compile(r"`system`\.`access`\.`(table_lineage|column_lineage)`|\bsystem\.access\.(table_lineage|column_lineage)\b")


def view(name: str) -> str:
    return f"__system_access_{name}"


def rewrite(statement: str) -> str:
    """The statement with the system tables' names pointed at the fake's views."""
    return _NAMES.sub(lambda m: f"`{view(m.group(1) or m.group(2))}`", statement)


def event(
    *, source: str | None = None, target: str | None = None, at: datetime, entity: tuple[str, str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """One lineage event as the service records it: names split into catalog/schema/name, TABLE types."""
    kind, ident, run = entity or (None, None, None)
    row: dict[str, Any] = {
        "account_id": "acc-1",
        "metastore_id": "ms-1",
        "workspace_id": "1234",
        "entity_type": kind,
        "entity_id": ident,
        "entity_run_id": run,
        "created_by": "someone@example.com",
        "event_time": at,
        "event_date": at.date(),
        "record_id": f"rec-{abs(hash((source, target, at))) % 10**9}",
        "event_id": f"ev-{abs(hash((target, source, at))) % 10**9}",
        "statement_id": None,
    }
    for side, full in (("source", source), ("target", target)):
        parts = full.split(".") if full else [None, None, None]
        row.update(
            {
                f"{side}_table_full_name": full,
                f"{side}_table_catalog": parts[0],
                f"{side}_table_schema": parts[1],
                f"{side}_table_name": parts[2],
                f"{side}_path": extra.pop(f"{side}_path", None),
                f"{side}_type": "TABLE" if full else ("PATH" if row.get(f"{side}_path") else None),
            }
        )
    row.update(extra)
    return row


def install(session: Any, table_rows: list[dict[str, Any]], column_rows: list[dict[str, Any]]) -> None:
    """Load the two system tables into `session` (the warehouse engine's) as views."""
    from pyspark.sql.types import DateType, StringType, StructField, StructType, TimestampType

    def schema(columns: list[str]) -> StructType:
        kinds = {"event_time": TimestampType(), "event_date": DateType()}
        return StructType([StructField(c, kinds.get(c, StringType())) for c in columns])

    for name, columns, rows in (("table_lineage", TABLE_LINEAGE, table_rows), ("column_lineage", COLUMN_LINEAGE, column_rows)):
        df = session.createDataFrame([tuple(r.get(c) for c in columns) for r in rows], schema(columns))
        df.createOrReplaceTempView(view(name))
