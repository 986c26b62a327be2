"""lineage: where a table comes from and what it feeds, from lakectl's recorded OpenLineage events (the
`file` transport's JSON lines; no JVM). Read only."""

from __future__ import annotations

from typing import Any

from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import LineageParams
from lakectl.lineage.graph import Direction, answer
from lakectl.lineage.recorded import graph_of, read_events


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, LineageParams)
    direction: Direction = "both" if p.upstream == p.downstream else "upstream" if p.upstream else "downstream"
    warnings: list[str] = []
    path = ctx.settings.lineage.file_path(ctx.settings.storage.root_dir)
    events, bad = read_events(path)
    if bad:
        warnings.append(f"{bad} line(s) of {path} are not lineage events and were skipped")
    if "file" not in ctx.settings.lineage.transports:
        warnings.append("lineage.transports does not include file: runs since then are not in the recorded lineage")
    doc = answer(graph_of(events), p.table, direction, p.columns)
    doc["events"] = len(events)
    details = [{"kind": "table", **t} for t in doc["tables"]]
    return Result(job="lineage", tables_read=[str(path)], warnings=warnings, details=details, metrics=doc)
