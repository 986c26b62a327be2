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
    title = f"{result.job}{' (dry run)' if result.dry_run else ''}: {result.status} in {result.duration_s:.1f}s"
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    for key, value in _summary_rows(result):
        table.add_row(key, value)
    console.print(table)
    for detail in result.details:
        _render_detail(console, detail)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def _summary_rows(result: Result) -> list[tuple[str, str]]:
    rows = []
    for key in ("rows_read", "rows_written", "rows_quarantined"):
        value = getattr(result, key)
        if value or key == "rows_written":
            rows.append((key.replace("_", " "), f"{value:,}"))
    if result.tables_read:
        rows.append(("read", ", ".join(result.tables_read)))
    if result.tables_written:
        rows.append(("wrote", ", ".join(result.tables_written)))
    for key, value in result.metrics.items():
        rows.append((key.replace("_", " "), _fmt(value)))
    return rows


def _render_detail(console: Any, detail: dict[str, Any]) -> None:
    from rich.table import Table

    name = detail.get("job") or detail.get("name") or ""
    table = Table(title=str(name), title_justify="left", show_header=False, box=None)
    table.add_column(style="cyan")
    table.add_column()
    for key, value in detail.items():
        if key in ("job", "name", "details") or value in (None, [], {}, 0, "", False):
            continue
        table.add_row(key.replace("_", " "), _fmt(value))
    console.print(table)


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
