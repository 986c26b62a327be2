from __future__ import annotations

from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


def score(
    ctx: typer.Context,
    model: Optional[str] = typer.Option(None, "--model", "-m", help="NAME@ALIAS, NAME/VERSION or VERSION (default: <ml.model_name>@champion)."),
    rescore: bool = typer.Option(False, "--rescore", help="Score every review again with this model version (replacing its scores)."),
    continuous: bool = typer.Option(False, "--continuous", help="Keep scoring reviews as they land in silver; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval: Optional[str] = typer.Option(None, "--trigger-interval", help="Micro-batch interval with --continuous, e.g. '5 seconds'."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Checkpoint folder with --continuous (default: one per model version)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Score silver.reviews with a registered model into silver.review_scores, incrementally and exactly once."""
    execute(ctx, "score", {"model": model, "rescore": rescore, "continuous": continuous,
                           "trigger_interval": trigger_interval, "checkpoint": checkpoint, "dry_run": dry_run}, json_out=json_out)
