"""The lineage graph from Unity Catalog's lineage system tables (system.access.table_lineage and
column_lineage), queried through the job's engine: a SQL warehouse, or the Databricks runtime's Spark.

The service records one row per read or write event (many rows per pair of tables, a NULL source for a
plain write, a NULL target for a plain read, paths where a table has no name, in no particular order):
rows are grouped in SQL and walked here level by level from the table asked about."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakectl.core import sql
from lakectl.lineage.graph import Direction, Edge, Graph, LastWrite

if TYPE_CHECKING:
    from lakectl.engine.protocol import SqlEngine

MAX_DEPTH = 20  # a chain longer than this is cut (the service's graph may hold cycles through paths)


def _job(row: dict[str, Any]) -> str:
    kind, ident = row.get("entity_type"), row.get("entity_id")
    return f"{str(kind).lower()} {ident}" if kind and ident else (str(kind).lower() if kind else "sql")


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def graph_of(engine: SqlEngine, table: str, direction: Direction, *, columns: bool, days: int = 365) -> Graph:
    graph = Graph(origin="system_tables")
    seen: set[str] = {table}
    up, down = ([table] if direction in ("upstream", "both") else []), ([table] if direction in ("downstream", "both") else [])
    for _ in range(MAX_DEPTH):
        if not up and not down:
            break
        rows = engine.rows(sql.table_lineage_sql(targets=up, sources=down, days=days))
        asked_up, asked_down = set(up), set(down)
        up, down = [], []
        for r in rows:
            source, target = r.get("source"), r.get("target")
            if target and (target in asked_up or target == table):
                graph.add_write(target, LastWrite(job=_job(r), run_id=_none_or_str(r.get("run_id")), at=_iso(r.get("at"))))
            if source and target and source != target:
                graph.edges.add(Edge(source, target, _job(r)))
                if target in asked_up and source not in seen:
                    seen.add(source)
                    up.append(source)
                if source in asked_down and target not in seen:
                    seen.add(target)
                    down.append(target)
    if columns:
        for r in engine.rows(sql.column_lineage_sql(sorted(seen), days=days)):
            if r.get("source") and r.get("target") and r.get("source_column") and r.get("target_column"):
                graph.columns[(r["target"], r["target_column"])].add((r["source"], r["source_column"], "TRANSFORMATION"))
    # the last write of every table reached, also of the ones only walked through
    missing = sorted(t for t in seen if t not in graph.writes)
    if missing:
        for r in engine.rows(sql.table_lineage_sql(targets=missing, days=days)):
            if r.get("target") in missing:
                graph.add_write(r["target"], LastWrite(job=_job(r), run_id=_none_or_str(r.get("run_id")), at=_iso(r.get("at"))))
    return graph


def _none_or_str(value: Any) -> str | None:
    return None if value is None else str(value)
