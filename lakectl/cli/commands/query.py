from __future__ import annotations

from enum import Enum

import typer

from lakectl.cli.options import JSON
from lakectl.cli.state import execute


class Engine(str, Enum):
    auto = "auto"
    duckdb = "duckdb"
    spark = "spark"


def query(
    ctx: typer.Context,
    sql: str = typer.Argument(..., metavar="SQL", help="One SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement."),
    limit: int = typer.Option(100, "--limit", "-n", min=0, max=2**31 - 1, help="Return at most this many rows (0: no limit)."),
    engine: Engine = typer.Option(Engine.auto, "--engine", help="auto: DuckDB for SELECT/WITH on local tables (no JVM), else Spark; spark: always Spark SQL."),
    json_out: bool = JSON,
) -> None:
    """Run a read-only SQL query; tables by their logical names, e.g. "SELECT * FROM gold.kpi_hourly"."""
    execute(ctx, "query", {"sql": sql, "limit": limit, "engine": engine.value}, json_out=json_out)
