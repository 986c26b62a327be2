"""lineage: where a table comes from and what it feeds. Locally from lakectl's recorded OpenLineage events
(the `file` transport's JSON lines; no JVM); on a Databricks target with a SQL warehouse from Unity Catalog's
lineage system tables, queried through the engine. Read only."""

from __future__ import annotations

from typing import Any

from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import LineageParams
from lakectl.lineage.graph import Direction, Graph, answer


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, LineageParams)
    direction: Direction = "both" if p.upstream == p.downstream else "upstream" if p.upstream else "downstream"
    if ctx.engine.capabilities.system_lineage:  # a Databricks SQL warehouse
        return _from_system_tables(ctx, p, direction)
    from lakectl.lineage.recorded import graph_of, read_events

    warnings: list[str] = []
    path = ctx.settings.lineage.file_path(ctx.settings.storage.root_dir)
    events, bad = read_events(path)
    if bad:
        warnings.append(f"{bad} line(s) of {path} are not lineage events and were skipped")
    if "file" not in ctx.settings.lineage.transports:
        warnings.append("lineage.transports does not include file: runs since then are not in the recorded lineage")
    doc = answer(graph_of(events), p.table, direction, p.columns)
    doc["events"] = len(events)
    return _result(doc, [str(path)], warnings)


def _from_system_tables(ctx: JobContext, p: LineageParams, direction: Direction) -> Result:
    from lakectl.core.sql import COLUMN_LINEAGE, TABLE_LINEAGE
    from lakectl.lineage.system_tables import graph_of

    catalog = ctx.settings.storage.catalog
    name = p.table if p.table.count(".") >= 2 or not catalog else f"{catalog}.{p.table}"
    graph: Graph = graph_of(ctx.engine, name, direction, columns=p.columns, days=p.days)
    read = [".".join(TABLE_LINEAGE)] + ([".".join(COLUMN_LINEAGE)] if p.columns else [])
    return _result(answer(graph, name, direction, p.columns), read, [])


def _result(doc: dict[str, Any], read: list[str], warnings: list[str]) -> Result:
    details = [{"kind": "table", **t} for t in doc["tables"]]
    return Result(job="lineage", tables_read=read, warnings=warnings, details=details, metrics=doc)
