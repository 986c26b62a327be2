from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.params import argument, option, options_from
from lakectl.jobs.params import QueryParams


@options_from(
    QueryParams,
    sql=argument(metavar="SQL", help="One SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement."),
    limit=option("-n", help="Return at most this many rows (0: no limit)."),
    engine=option(help="auto: DuckDB for SELECT/WITH on local tables (no JVM), else Spark; spark: always Spark SQL."),
)
def query(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Run a read-only SQL query; tables by their logical names, e.g. "SELECT * FROM gold.kpi_hourly"."""
    run_job(ctx, "query", params, json_out)
