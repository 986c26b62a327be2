"""The lineage graph: tables joined by the jobs that read one and wrote the other, the last run that
wrote each table, and which source columns feed each column. Built from recorded OpenLineage events
(recorded.py) or from Unity Catalog's lineage system tables (system_tables.py); walked here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from lakectl.core.errors import TableNotFound

Direction = Literal["upstream", "downstream", "both"]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    job: str


@dataclass
class LastWrite:
    job: str
    run_id: str | None
    at: str | None  # ISO 8601
    state: str = "COMPLETE"


@dataclass
class Graph:
    edges: set[Edge] = field(default_factory=set)
    writes: dict[str, LastWrite] = field(default_factory=dict)  # table -> the last run that wrote it
    columns: dict[tuple[str, str], set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    origin: str = "recorded"  # recorded (OpenLineage events) | system_tables (Unity Catalog)

    def add_write(self, table: str, write: LastWrite) -> None:
        known = self.writes.get(table)
        if known is None or (write.at or "") >= (known.at or ""):
            self.writes[table] = write

    @property
    def tables(self) -> set[str]:
        return {e.source for e in self.edges} | {e.target for e in self.edges} | set(self.writes) | {t for t, _ in self.columns}

    def resolve(self, name: str) -> str:
        """The graph's name for `name`: exact, or the one table whose name ends with `.name` (a catalog prefix)."""
        known = self.tables
        if name in known:
            return name
        matches = sorted(t for t in known if t.endswith("." + name) or name.endswith("." + t))
        if len(matches) == 1:
            return matches[0]
        where = "in the recorded lineage" if self.origin == "recorded" else "in system.access.table_lineage"
        hint = (
            f"tables with lineage: {', '.join(sorted(known)[:12])}{' ...' if len(known) > 12 else ''}"
            if known
            else "run a job first (`lakectl run`); lineage is recorded when lineage.transports includes file"
        )
        raise TableNotFound(f"no lineage for {name} {where}" + (f" (it matches {', '.join(matches)})" if matches else ""), hint)

    def walk(self, table: str, direction: Direction) -> tuple[list[dict[str, Any]], list[Edge]]:
        """The tables reached from `table` (with their distance; upstream negative) and the edges walked."""
        found: dict[str, int] = {table: 0}
        walked: set[Edge] = set()
        for sign, step in ((-1, "upstream"), (1, "downstream")):
            if direction not in (step, "both"):
                continue
            frontier, depth = [table], 0
            seen = {table}
            while frontier:
                depth += 1
                nxt = []
                for t in frontier:
                    for e in self.edges:
                        other = (
                            e.source
                            if step == "upstream" and e.target == t
                            else e.target
                            if step == "downstream" and e.source == t
                            else None
                        )
                        if other is None:
                            continue
                        walked.add(e)
                        if other not in seen:
                            seen.add(other)
                            found.setdefault(other, sign * depth)
                            nxt.append(other)
                frontier = nxt
        rows = []
        for t, d in sorted(found.items(), key=lambda kv: (kv[1], kv[0])):
            w = self.writes.get(t)
            rows.append(
                {
                    "table": t,
                    "distance": d,
                    "last_write": None if w is None else {"job": w.job, "run_id": w.run_id, "at": w.at, "state": w.state},
                }
            )
        return rows, sorted(walked, key=lambda e: (e.source, e.target, e.job))

    def column_lineage(self, table: str, direction: Direction) -> list[dict[str, Any]]:
        """Per column of `table`: its direct sources and the columns at the end of each chain (upstream),
        and/or the columns it feeds (downstream)."""
        feeds: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for (t, c), sources in self.columns.items():
            for st, sc, _ in sources:
                feeds[(st, sc)].add((t, c))
        own = sorted({c for t, c in self.columns if t == table} | {c for (t, c) in feeds if t == table})
        out = []
        for c in own:
            row: dict[str, Any] = {"column": c}
            if direction in ("upstream", "both"):
                row["sources"] = [
                    {"table": st, "column": sc, "transformation": sub} for st, sc, sub in sorted(self.columns.get((table, c), ()))
                ]
                row["upstream"] = [{"table": t, "column": col} for t, col in sorted(self._reached((table, c)))]
                row["origins"] = [{"table": t, "column": col} for t, col in sorted(self._ends((table, c), upstream=True))]
            if direction in ("downstream", "both"):
                row["feeds"] = [{"table": t, "column": col} for t, col in sorted(feeds.get((table, c), ()))]
                row["reaches"] = [{"table": t, "column": col} for t, col in sorted(self._ends((table, c), upstream=False, feeds=feeds))]
            out.append(row)
        return out

    def _reached(self, start: tuple[str, str]) -> set[tuple[str, str]]:
        """Every column upstream of `start`, at any distance."""
        seen, stack = set(), [start]
        while stack:
            for t, c, _ in self.columns.get(stack.pop(), ()):
                if (t, c) not in seen:
                    seen.add((t, c))
                    stack.append((t, c))
        seen.discard(start)
        return seen

    def _ends(
        self, start: tuple[str, str], *, upstream: bool, feeds: dict[tuple[str, str], set[tuple[str, str]]] | None = None
    ) -> set[tuple[str, str]]:
        def step(node: tuple[str, str]) -> set[tuple[str, str]]:
            if upstream:
                return {(t, c) for t, c, _ in self.columns.get(node, ())}
            return set((feeds or {}).get(node, ()))

        ends, seen, stack = set(), {start}, [start]
        while stack:
            node = stack.pop()
            nxt = step(node) - seen
            if not step(node) and node != start:
                ends.add(node)
            seen |= nxt
            stack += list(nxt)
        return ends


def answer(graph: Graph, name: str, direction: Direction, columns: bool) -> dict[str, Any]:
    """What `lakectl lineage` prints: the tables, the jobs between them, and (with columns) the column map."""
    table = graph.resolve(name)
    tables, edges = graph.walk(table, direction)
    out: dict[str, Any] = {
        "table": table,
        "direction": direction,
        "source": graph.origin,
        "tables": tables,
        "edges": [{"from": e.source, "to": e.target, "job": e.job} for e in edges],
    }
    if columns:
        out["columns"] = graph.column_lineage(table, direction)
    return out
