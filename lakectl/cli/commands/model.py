"""`lakectl model ...`: see registered models and move the champion alias by hand."""

from __future__ import annotations

from typing import Any, Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute

app = typer.Typer(name="model", help="Registered sentiment models: list, show, promote a version, roll back.", no_args_is_help=True)


def _run(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    execute(ctx, "model", params, json_out=json_out)


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = JSON) -> None:
    """Registered models with their aliases and latest version."""
    _run(ctx, {"action": "list"}, json_out)


@app.command()
def show(ctx: typer.Context, name: Optional[str] = typer.Argument(None, help="Model name (default: ml.model_name)."),
         json_out: bool = JSON) -> None:
    """A model's versions: aliases, training run, test accuracy, table version read."""
    _run(ctx, {"action": "show", "name": name}, json_out)


@app.command()
def promote(ctx: typer.Context, name: str = typer.Argument(..., help="Model name."),
            version: str = typer.Argument(..., help="The version to make champion."),
            dry_run: bool = DRY_RUN, json_out: bool = JSON) -> None:
    """Make VERSION the champion (bypassing the gate)."""
    _run(ctx, {"action": "promote", "name": name, "version": version, "dry_run": dry_run}, json_out)


@app.command()
def rollback(ctx: typer.Context, name: str = typer.Argument(..., help="Model name."),
             dry_run: bool = DRY_RUN, json_out: bool = JSON) -> None:
    """Give the champion alias back to the previous champion."""
    _run(ctx, {"action": "rollback", "name": name, "dry_run": dry_run}, json_out)
