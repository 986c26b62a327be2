"""`lakectl lineage TABLE`: where a table comes from, what it feeds, and which columns feed its columns."""

from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.params import argument, option, options_from
from lakectl.jobs.params import LineageParams


@options_from(
    LineageParams,
    table=argument(metavar="TABLE", help="A table, e.g. gold.kpi_hourly."),
    upstream=option(help="Only what TABLE comes from (default: both directions)."),
    downstream=option(help="Only what TABLE feeds."),
    columns=option(help="Also per column: its source columns and the columns at the end of each chain."),
    days=option(help="On a Databricks target: lineage events of the last N days."),
)
def lineage(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Where a table comes from and what it feeds, table by table and column by column.

    Answers from the OpenLineage events lakectl's runs recorded (no JVM); on a Databricks target with a SQL warehouse, from Unity Catalog's lineage system tables."""
    run_job(ctx, "lineage", params, json_out, progress="none", present=_present)


def _present(result: Any, fmt: str) -> None:
    from lakectl.cli.render import console_for, render_result

    m = result.metrics
    if fmt in ("json", "csv") or "tables" not in m:
        render_result(result, fmt=fmt)
        return
    from rich.table import Table

    console = console_for(fmt)
    arrow = {"upstream": "comes from", "downstream": "feeds", "both": "comes from and feeds"}[m["direction"]]
    console.print(
        f"[bold]{m['table']}[/] {arrow} ({'recorded OpenLineage events' if m['source'] == 'recorded' else 'Unity Catalog lineage'})"
    )
    tables = Table(box=None, pad_edge=False)
    for h in ("distance", "table", "last written by", "run", "at"):
        tables.add_column(h)
    for t in m["tables"]:
        w = t["last_write"] or {}
        tables.add_row(str(t["distance"]), t["table"], w.get("job") or "", w.get("run_id") or "", (w.get("at") or "")[:19])
    console.print(tables)
    for e in m["edges"]:
        console.print(f"  {e['from']} [dim]--{e['job']}-->[/] {e['to']}")
    if m.get("columns"):
        cols = Table(box=None, pad_edge=False, title="columns", title_justify="left")
        cols.add_column("column", style="bold")
        keys = [k for k in ("sources", "origins", "feeds", "reaches") if k in m["columns"][0]]
        for k in keys:
            cols.add_column(k)
        for c in m["columns"]:
            cols.add_row(c["column"], *[", ".join(f"{s['table']}.{s['column']}" for s in c[k]) for k in keys])
        console.print(cols)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
