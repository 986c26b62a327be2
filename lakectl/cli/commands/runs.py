"""`lakectl runs status|logs|cancel RUN_ID`: follow a Databricks run submitted with --no-wait."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer

from lakectl.cli.boundary import guarded
from lakectl.cli.help import Int, epilog
from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import State

PANEL = "Deployment"
app = typer.Typer(name="runs", help="Follow Databricks runs: status, logs, cancel (Databricks targets).", no_args_is_help=True)


def _call(ctx: typer.Context, json_out: bool, action: Callable[[Any], dict[str, Any]], render: Callable[[dict[str, Any]], None]) -> None:
    def on_target(state: State) -> dict[str, Any]:
        from lakectl.config import DatabricksTarget, load_settings
        from lakectl.core.errors import UsageError

        settings = load_settings(state.config)
        target = settings.target(state.target)
        if not isinstance(target, DatabricksTarget):
            raise UsageError(
                f"target {state.target or settings.default_target!r} is not a Databricks target",
                "pass --target NAME of a `kind: databricks` target",
            )
        return action(target)

    doc, fmt = guarded(ctx, json_out, on_target)
    if fmt == "json":
        from lakectl.core.results import json_default

        print(json.dumps(doc, default=json_default))
    else:
        render(doc)


@app.command("status", epilog=epilog([("lakectl --target prod runs status 123456", "state, result and run page URL")], exits=(1, 4)))
def status(
    ctx: typer.Context, run_id: int = typer.Argument(..., click_type=Int(), help="The Databricks run id."), json_out: bool = JSON
) -> None:
    """State, result and run page URL of a run."""
    from lakectl.runners.databricks import runs

    def show(doc: dict[str, Any]) -> None:
        result = f" {doc['result_state']}" if doc["result_state"] else ""
        print(f"run {doc['run_id']}: {doc['state']}{result} {doc['run_page_url'] or ''}".rstrip())

    _call(ctx, json_out, lambda t: runs.status(t, run_id), show)


@app.command("logs", epilog=epilog([("lakectl --target prod runs logs 123456", "the run's stdout and stderr")], exits=(1, 4)))
def logs(
    ctx: typer.Context, run_id: int = typer.Argument(..., click_type=Int(), help="The Databricks run id."), json_out: bool = JSON
) -> None:
    """The run's output (stdout and stderr of lakectl-job; the last 5 MB)."""
    from lakectl.runners.databricks import runs

    def show(doc: dict[str, Any]) -> None:
        print(doc["logs"], end="" if doc["logs"].endswith("\n") else "\n")
        if doc["error"]:
            print(f"error: {doc['error']}")

    _call(ctx, json_out, lambda t: runs.logs(t, run_id), show)


@app.command("cancel", epilog=epilog([("lakectl --target prod runs cancel 123456", "stop it and wait until it has stopped")], exits=(1, 4)))
def cancel(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., click_type=Int(), help="The Databricks run id."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Cancel a run and wait until it has stopped."""
    from lakectl.runners.databricks import runs

    def show(doc: dict[str, Any]) -> None:
        if doc["dry_run"]:
            print(f"would cancel run {doc['run_id']} ({doc['state']})")
        elif doc["cancelled"]:
            print(f"cancelled run {doc['run_id']}")
        else:
            print(f"run {doc['run_id']} had already ended ({doc['state']})")

    _call(ctx, json_out, lambda t: runs.cancel(t, run_id, dry_run=dry_run), show)
