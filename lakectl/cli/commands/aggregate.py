from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, option, options_from
from lakectl.jobs.params import AggregateParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl aggregate", "the gold days new silver rows touched"),
        ("lakectl aggregate --full-refresh", "every gold table from all of silver"),
        ("lakectl aggregate --export csv exports/", "and a CSV copy of each gold table for BI tools"),
        ("lakectl aggregate --continuous", "refresh gold per micro-batch of silver until Ctrl-C"),
    ],
    exits=(1, 3, 6),
)
@options_from(
    AggregateParams,
    full_refresh=option(help="Recompute every gold table from all of silver."),
    export=option(
        fields=("export_format", "export_dir"),
        metavar="FORMAT DIR",
        help="Also write every gold table to DIR/<table>/ as csv or parquet (for BI tools).",
    ),
    continuous=option(help="Keep refreshing gold from silver's change feed; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval=option(help="Micro-batch interval with --continuous, e.g. '10 seconds'."),
    dry_run=DRY_RUN,
)
def aggregate(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Build the gold tables from silver.events, incrementally (only the days new silver rows touched), and print the KPIs."""
    if params["continuous"] and (params["export_format"] or params["full_refresh"]):
        raise typer.BadParameter("--continuous cannot be combined with --export or --full-refresh", param_hint="--continuous")
    run_job(ctx, "aggregate", params, json_out)
