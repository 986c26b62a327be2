from __future__ import annotations

import json
from enum import Enum

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import fail, output_format, state_of


class InitTarget(str, Enum):
    local = "local"
    spark = "spark"
    databricks = "databricks"


def init(
    ctx: typer.Context,
    directory: str = typer.Argument(".", metavar="[DIR]", help="Project folder (default: this one)."),
    target: InitTarget = typer.Option(InitTarget.local, "--target-kind", "-k", help="Default target: local Spark, a Spark Connect cluster, or Databricks."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing DIR/configs/lakectl.yaml."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Write a commented config (DIR/configs/lakectl.yaml) and the lake's folders, and print the next commands."""
    state = state_of(ctx)
    as_json = output_format(ctx, json_out) == "json"
    try:
        from lakectl.onboarding.init import init as write

        result = write(directory, target.value, force=force, dry_run=dry_run)
    except BaseException as exc:
        fail(exc, verbose=state.verbose, as_json=as_json)
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    m = result.metrics
    verb = "would write" if dry_run else "wrote"
    print(f"{verb} {m['config']} (default target: {m['target']})")
    print(f"{'would create' if dry_run else 'created'} {m['root']}/{{landing/events,tables,checkpoints,logs}}")
    print("next:")
    for step in m["next"]:
        print(f"  {step}")
