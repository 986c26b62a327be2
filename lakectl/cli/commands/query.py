from __future__ import annotations

import typer

from lakectl.cli.options import JSON
from lakectl.cli.state import execute


def query(
    ctx: typer.Context,
    sql: str = typer.Argument(..., metavar="SQL", help="One SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement."),
    limit: int = typer.Option(100, "--limit", "-n", min=0, help="Return at most this many rows (0: no limit)."),
    json_out: bool = JSON,
) -> None:
    """Run a read-only SQL query; tables by their logical names, e.g. "SELECT * FROM gold.kpi_hourly"."""
    execute(ctx, "query", {"sql": sql, "limit": limit}, json_out=json_out)
