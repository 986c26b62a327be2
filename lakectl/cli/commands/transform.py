from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, option, options_from
from lakectl.jobs.params import TransformParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl transform", "new bronze rows into silver"),
        ("lakectl transform --dry-run", "rules, schema drift and pending bronze rows, without writing"),
        ("lakectl transform --batch --schema-drift add", "all of bronze, evolving silver's schema"),
    ],
    exits=(1, 3, 6),
)
@options_from(
    TransformParams,
    batch=option(help="Read the whole bronze table instead of only new rows."),
    continuous=option(help="Keep streaming from bronze; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval=option(help="Micro-batch interval with --continuous, e.g. '30 seconds'."),
    checkpoint=option(help="Checkpoint folder (default: <checkpoints>/transform)."),
    schema_drift=option(help="Bronze schema drift: rescue, add or fail (default: transform.schema_drift)."),
    dry_run=DRY_RUN,
)
def transform(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Clean, check, deduplicate and enrich bronze events into silver.events (+ reviews, quarantine, DQ metrics)."""
    if params["batch"] and params["continuous"]:
        raise typer.BadParameter("--batch and --continuous cannot be combined", param_hint="--batch")
    run_job(ctx, "transform", params, json_out)
