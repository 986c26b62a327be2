"""Render a Result: a rich table for people, one JSON document for CI."""

from __future__ import annotations

import json
from typing import Any

from lakectl.results import Result


def render_result(result: Result, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_dict(), default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if "columns" in result.metrics and "rows" in result.metrics:  # a query's rows
        render_rows(console, result.metrics["columns"], result.metrics["rows"])
        more = f" (truncated at --limit {result.metrics.get('limit')})" if result.metrics.get("truncated") else ""
        console.print(f"[dim]{len(result.metrics['rows']):,} row(s) in {result.duration_s:.1f}s{more}[/]")
        return
    title = f"{result.job}{' (dry run)' if result.dry_run else ''}: {result.status} in {result.duration_s:.1f}s"
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    for key, value in _summary_rows(result):
        table.add_row(key, value)
    console.print(table)
    for key, value in result.metrics.items():
        if _table_like(value):
            _render_nested(console, result.job, key, value)
    if _uniform(result.details):  # e.g. one row per table: one table with a header
        columns = [k for k in result.details[0] if k != "job"]
        render_rows(console, columns, [[d[k] for k in columns] for d in result.details])
    else:
        for detail in result.details:
            _render_detail(console, detail)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


_LABELS = {"rows_read": "rows read", "rows_written": "rows written", "rows_quarantined": "rows quarantined"}
_DRY_LABELS = {"rows_read": "rows to read", "rows_written": "rows to write", "rows_quarantined": "rows to quarantine"}


def _summary_rows(result: Result) -> list[tuple[str, str]]:
    """Figures first, then tables; a dry run speaks in the conditional and shows no after-figures."""
    rows = []
    dry = result.dry_run
    by_layer = "rows_written_by_layer" in result.metrics  # a pipeline: its per-layer figures say it better
    for key in ("rows_read", "rows_written", "rows_quarantined"):
        value = getattr(result, key)
        if by_layer and key == "rows_written":
            continue
        if value or (key == "rows_written" and not dry):
            rows.append(((_DRY_LABELS if dry else _LABELS)[key], f"{value:,}"))
    if result.tables_read:
        rows.append(("would read" if dry else "read", ", ".join(result.tables_read)))
    if result.tables_written:
        rows.append(("would write" if dry else "wrote", ", ".join(result.tables_written)))
    for key, value in result.metrics.items():
        if not _table_like(value):  # per-rule metrics and the like get a table of their own
            rows.append((key.replace("_", " "), _fmt(value)))
    return rows


def _render_detail(console: Any, detail: dict[str, Any]) -> None:
    from rich.table import Table

    name = detail.get("job") or detail.get("name") or ""
    table = Table(title=str(name), title_justify="left", show_header=False, box=None)
    table.add_column(style="cyan")
    table.add_column()
    nested: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in detail.items():
        if key in ("job", "name", "details") or value in (None, [], {}, 0, "", False):
            continue
        if _table_like(value):
            nested.append((key, value))  # e.g. per-rule quality metrics: a table of their own reads better
            continue
        table.add_row(key.replace("_", " "), _fmt(value))
    console.print(table)
    for key, rows in nested:
        _render_nested(console, str(name), key, rows)


def _table_like(value: Any) -> bool:
    """A list of flat records (per-rule metrics, per-table reports): rendered as a table, not a k=v wall."""
    return isinstance(value, list) and (_uniform(value) or (len(value) == 1 and isinstance(value[0], dict)))


def _render_nested(console: Any, name: str, key: str, rows: list[dict[str, Any]]) -> None:
    """One renderer for a result's nested records, wherever they sit (a standalone job or a pipeline's stage)."""
    # a text column with one value for every row goes into the title, to leave the width to the rest
    same = {c: v for c, v in rows[0].items()
            if isinstance(v, str) and len(rows) > 1 and all(r.get(c) == v for r in rows)}
    columns = [c for c in rows[0] if c not in same]
    title = f"{name} {key.replace('_', ' ')}".strip() + (f" ({_fmt(same)})" if same else "")
    render_rows(console, columns, [[r.get(c) for c in columns] for r in rows], title=title)


def human_bytes(n: int | None) -> str:
    """1536 -> '1.5 KiB'; None -> ''."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _uniform(details: list[Any]) -> bool:
    """Several flat dicts with the same keys."""
    return len(details) > 1 and all(
        isinstance(d, dict) and d.keys() == details[0].keys() and not any(isinstance(v, (dict, list)) for v in d.values())
        for d in details)


def render_rows(console: Any, columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """A table of rows with a header; numbers right-aligned, nulls shown as NULL."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold cyan")
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in rows if r[i] is not None)
               for i in range(len(columns))]
    for name, is_num in zip(columns, numeric):
        table.add_column(name, justify="right" if is_num else "left")
    for row in rows:
        table.add_row(*(Text("NULL", style="dim") if v is None else Text(_fmt(v)) for v in row))  # data is never markup
    console.print(table)
