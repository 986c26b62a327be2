"""`lakectl model ...`: see registered models and move the champion alias by hand."""

from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import epilog
from lakectl.cli.params import DRY_RUN, argument, options_from
from lakectl.jobs.params import ModelParams

PANEL = "Models"
app = typer.Typer(name="model", help="Registered sentiment models: list, show, promote a version, roll back.", no_args_is_help=True)


@app.command("list", epilog=epilog([("lakectl model list", "registered models, their aliases and latest version")], exits=(4,)))
@options_from(ModelParams)
def list_(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Registered models with their aliases and latest version."""
    run_job(ctx, "model", {"action": "list", **params}, json_out)


@app.command(epilog=epilog([("lakectl model show sentiment", "every version: aliases, accuracy, table version read")], exits=(4,)))
@options_from(ModelParams, name=argument(help="Model name (default: ml.model_name)."))
def show(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """A model's versions: aliases, training run, test accuracy, table version read."""
    run_job(ctx, "model", {"action": "show", **params}, json_out)


@app.command(epilog=epilog([("lakectl model promote sentiment 3 --dry-run", "what making version 3 champion would change")], exits=(1, 4)))
@options_from(
    ModelParams,
    name=argument(required=True, help="Model name."),
    version=argument(required=True, help="The version to make champion."),
    dry_run=DRY_RUN,
)
def promote(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Make VERSION the champion (bypassing the gate)."""
    run_job(ctx, "model", {"action": "promote", **params}, json_out)


@app.command(epilog=epilog([("lakectl model rollback sentiment", "the previous champion back")], exits=(1, 4)))
@options_from(ModelParams, name=argument(required=True, help="Model name."), dry_run=DRY_RUN)
def rollback(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Give the champion alias back to the previous champion."""
    run_job(ctx, "model", {"action": "rollback", **params}, json_out)
