"""The lineage graph from the run events the `file` transport recorded (JSON lines): no JVM, no
openlineage-python import, a plain read of the file. A line that is not an event is skipped and counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakectl.lineage.graph import Edge, Graph, LastWrite


def _label(dataset: dict[str, Any]) -> str:
    """lakectl's table name (the `lakectl` symlink) or the dataset's own name."""
    for ident in (dataset.get("facets") or {}).get("symlinks", {}).get("identifiers", []) or []:
        if ident.get("namespace") == "lakectl" and ident.get("name"):
            return str(ident["name"])
    ns, name = dataset.get("namespace", ""), dataset.get("name", "")
    return name if ns == "file" else f"{ns}/{name}"


def _lakectl_run_id(event: dict[str, Any]) -> str | None:
    for tag in (event.get("run", {}).get("facets") or {}).get("tags", {}).get("tags", []) or []:
        if tag.get("key") == "lakectl.run_id":
            return tag.get("value")
    return None


def read_events(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The events in the file (oldest first) and how many lines were not events."""
    if not path.is_file():
        return [], 0
    events, bad = [], 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(event, dict) and event.get("eventType") and event.get("job"):
                events.append(event)
            else:
                bad += 1
    return events, bad


def graph_of(events: list[dict[str, Any]]) -> Graph:
    graph = Graph(origin="recorded")
    for event in events:
        if event.get("eventType") != "COMPLETE":
            continue
        job = event["job"].get("name", "?")
        labels: dict[tuple[str, str], str] = {}
        for d in (event.get("inputs") or []) + (event.get("outputs") or []):
            labels[(d.get("namespace", ""), d.get("name", ""))] = _label(d)
        inputs = [_label(d) for d in event.get("inputs") or []]
        write = LastWrite(job=job, run_id=_lakectl_run_id(event), at=event.get("eventTime"))
        for out in event.get("outputs") or []:
            target = _label(out)
            graph.add_write(target, write)
            for source in inputs:
                if source != target:
                    graph.edges.add(Edge(source, target, job))
            fields = ((out.get("facets") or {}).get("columnLineage") or {}).get("fields") or {}
            for column, spec in fields.items():
                for f in spec.get("inputFields") or []:
                    source = labels.get((f.get("namespace", ""), f.get("name", ""))) or _label(f)
                    subtype = next((t.get("subtype") for t in f.get("transformations") or [] if t.get("subtype")), None) or "TRANSFORMATION"
                    graph.columns[(target, column)].add((source, f.get("field", "?"), subtype))
    return graph
