from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import argument, option, options_from
from lakectl.jobs.params import QueryParams


@command(
    panel="Operations",
    examples=[
        ('lakectl query "SELECT * FROM gold.kpi_hourly ORDER BY event_hour DESC" -n 24', "the last day's hourly KPIs"),
        ('lakectl query "DESCRIBE silver.events" --engine spark', "a table's columns, through Spark"),
        ('lakectl -o csv query "SELECT * FROM gold.funnel_daily" -n 0', "every row as CSV"),
    ],
    exits=(1, 3, 4),
)
@options_from(
    QueryParams,
    sql=argument(metavar="SQL", help="One SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement."),
    limit=option("-n", help="Return at most this many rows (0: no limit)."),
    engine=option(help="auto: DuckDB for SELECT/WITH on local tables (no JVM), else Spark; spark: always Spark SQL."),
)
def query(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Run a read-only SQL query; tables by their logical names, e.g. "SELECT * FROM gold.kpi_hourly"."""
    run_job(ctx, "query", params, json_out)
