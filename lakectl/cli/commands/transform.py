from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class DriftMode(str, Enum):
    rescue = "rescue"
    add = "add"
    fail = "fail"


def transform(
    ctx: typer.Context,
    batch: bool = typer.Option(False, "--batch", help="Read the whole bronze table instead of only new rows."),
    continuous: bool = typer.Option(False, "--continuous", help="Keep streaming from bronze; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval: Optional[str] = typer.Option(None, "--trigger-interval", help="Micro-batch interval with --continuous, e.g. '30 seconds'."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Checkpoint folder (default: <checkpoints>/transform)."),
    schema_drift: Optional[DriftMode] = typer.Option(None, "--schema-drift", help="Bronze schema drift: rescue, add or fail (default: transform.schema_drift)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Clean, check, deduplicate and enrich bronze events into silver.events (+ reviews, quarantine, DQ metrics)."""
    if batch and continuous:
        raise typer.BadParameter("--batch and --continuous cannot be combined", param_hint="--batch")
    execute(ctx, "transform", {
        "batch": batch, "continuous": continuous, "trigger_interval": trigger_interval, "checkpoint": checkpoint,
        "schema_drift": schema_drift.value if schema_drift else None, "dry_run": dry_run,
    }, json_out=json_out)
