"""`lakectl lineage TABLE`: where a table comes from, what it feeds, and which columns feed its columns."""

from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import argument, option, options_from
from lakectl.cli.presenters import presents, show
from lakectl.jobs.params import LineageParams


@command(
    panel="Governance",
    examples=[
        ("lakectl lineage gold.kpi_hourly --upstream", "what the hourly KPIs are built from, table by table"),
        ("lakectl lineage silver.events --downstream --columns", "what silver feeds, column by column"),
        ("lakectl lineage gold.funnel_daily --json", "the graph as JSON"),
    ],
    exits=(1, 4),
)
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
    run_job(ctx, "lineage", params, json_out, progress="none", present=show)


@presents("lineage")
def _present(result: Any, fmt: str) -> None:
    from rich.text import Text

    from lakectl.cli.fit import Column, print_table
    from lakectl.cli.render import console_for, render_result

    m = result.metrics
    if "tables" not in m:
        render_result(result, fmt=fmt)
        return
    console = console_for(fmt)
    wide = fmt == "wide"
    arrow = {"upstream": "comes from", "downstream": "feeds", "both": "comes from and feeds"}[m["direction"]]
    source = "recorded OpenLineage events" if m["source"] == "recorded" else "Unity Catalog lineage"
    console.print(Text.assemble((m["table"], "bold"), f" {arrow} ({source})"))
    rows = []
    for t in m["tables"]:
        w = t["last_write"] or {}
        rows.append([str(t["distance"]), t["table"], w.get("job") or "", w.get("run_id") or "", (w.get("at") or "")[:19].replace("T", " ")])
    columns = [
        Column("distance", number=True),
        Column("table"),
        Column("last written by", drop=3),
        Column("run", drop=1),
        Column("at (UTC)", drop=2),
    ]
    print_table(console, columns, rows, wide=wide)
    for e in m["edges"]:
        console.print(Text.assemble(f"  {e['from']} ", (f"--{e['job']}-->", "dim"), f" {e['to']}"))
    if m.get("columns"):
        keys = [k for k in ("sources", "origins", "feeds", "reaches") if k in m["columns"][0]]
        cols = [Column("column")] + [Column(k, wrap=True) for k in keys]
        cells = [[c["column"], *[", ".join(f"{s['table']}.{s['column']}" for s in c[k]) for k in keys]] for c in m["columns"]]
        print_table(console, cols, cells, title="columns", wide=wide)
    for warning in result.warnings:
        console.print(Text.assemble(("warning: ", "yellow"), warning), soft_wrap=True)  # a path stays whole
