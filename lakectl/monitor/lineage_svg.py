"""The lineage graph as inline SVG for `monitor report --html`: tables in columns by their distance from
the sources (sources left, gold right), an arrow per job that read one and wrote the other, each table
with the last run that wrote it. Every node carries data-table, every edge data-from/data-to/data-job,
so tests (and people, by hovering) can read it."""

from __future__ import annotations

from html import escape

from lakectl.lineage.graph import Graph

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 210, 44, 70, 18, 16


def _short(label: str) -> str:
    """A path keeps its last two parts (landing/events); a table name stays whole."""
    if "/" in label:
        return "/".join(label.rstrip("/").split("/")[-2:])
    return label


def layers(graph: Graph) -> dict[str, int]:
    """Each table's column: the longest chain of jobs leading to it (a cycle is cut where it closes)."""
    parents: dict[str, set[str]] = {}
    for e in graph.edges:
        parents.setdefault(e.target, set()).add(e.source)
    depth: dict[str, int] = {}

    def of(t: str, path: frozenset[str]) -> int:
        if t in depth:
            return depth[t]
        ups = [p for p in parents.get(t, ()) if p not in path]
        d = 1 + max((of(p, path | {t}) for p in ups), default=-1)
        depth[t] = d
        return d

    for t in sorted(graph.tables):
        of(t, frozenset())
    return depth


def lineage_svg(graph: Graph, title: str = "Lineage: tables and the jobs between them") -> str:
    tables = {t for e in graph.edges for t in (e.source, e.target)}
    if not tables:
        return (
            f'<svg class="chart lineage" viewBox="0 0 1100 60" role="img" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            '<text x="16" y="36" font-size="13" fill="#666">No lineage recorded yet: run a job (lineage.transports includes file).</text></svg>'
        )
    depth = {t: d for t, d in layers(graph).items() if t in tables}
    columns: dict[int, list[str]] = {}
    for t, d in sorted(depth.items(), key=lambda kv: (kv[1], kv[0])):
        columns.setdefault(d, []).append(t)
    pos: dict[str, tuple[float, float]] = {}
    for d, names in columns.items():
        for i, t in enumerate(names):
            pos[t] = (PAD + d * (NODE_W + GAP_X), PAD + 24 + i * (NODE_H + GAP_Y))
    width = PAD * 2 + (max(columns) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + 24 + max(len(v) for v in columns.values()) * (NODE_H + GAP_Y)
    parts = [
        f'<svg class="chart lineage" viewBox="0 0 {width:.0f} {height:.0f}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#64748b"/></marker></defs>',
        f'<text x="{PAD}" y="{PAD + 6}" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for e in sorted(graph.edges, key=lambda e: (e.source, e.target, e.job)):
        if e.source not in pos or e.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        sx, sy, tx, ty = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
        if tx <= sx:  # same or earlier column (a cycle): loop below
            path = f"M {sx:.0f} {sy:.0f} C {sx + 40:.0f} {sy + 60:.0f} {tx - 40:.0f} {ty + 60:.0f} {tx:.0f} {ty:.0f}"
        else:
            mid = (sx + tx) / 2
            path = f"M {sx:.0f} {sy:.0f} C {mid:.0f} {sy:.0f} {mid:.0f} {ty:.0f} {tx:.0f} {ty:.0f}"
        parts.append(
            f'<path d="{path}" fill="none" stroke="#94a3b8" stroke-width="1.4" marker-end="url(#arrow)" '
            f'data-from="{escape(e.source)}" data-to="{escape(e.target)}" data-job="{escape(e.job)}">'
            f"<title>{escape(e.source)} → {escape(e.job)} → {escape(e.target)}</title></path>"
        )
    for t, (x, y) in sorted(pos.items()):
        w = graph.writes.get(t)
        sub = f"{w.job} · {(w.at or '')[:16].replace('T', ' ')}" if w else "read only"
        tip = f"{t}\nlast written by {w.job} run {w.run_id} at {w.at}" if w else t
        fill = "#eef2ff" if w else "#f8fafc"
        parts.append(
            f'<g data-table="{escape(t)}"><title>{escape(tip)}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="#6366f1"/>'
            f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" font-size="12" font-weight="bold">{escape(_short(t)[:30])}</text>'
            f'<text x="{x + 8:.0f}" y="{y + 35:.0f}" font-size="10" fill="#555">{escape(sub[:36])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
