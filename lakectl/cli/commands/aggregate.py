from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class ExportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"


def aggregate(
    ctx: typer.Context,
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Recompute every gold table from all of silver."),
    export: Optional[tuple[ExportFormat, str]] = typer.Option(
        None, "--export", metavar="FORMAT DIR", help="Also write every gold table to DIR/<table>/ as csv or parquet (for BI tools).",
    ),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Build the gold tables from silver.events, incrementally (only the days new silver rows touched), and print the KPIs."""
    fmt, directory = export if export else (None, None)
    execute(ctx, "aggregate", {
        "full_refresh": full_refresh, "dry_run": dry_run,
        "export_format": fmt.value if fmt else None, "export_dir": directory,
    }, json_out=json_out)
