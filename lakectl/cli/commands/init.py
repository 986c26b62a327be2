from __future__ import annotations

import json
from enum import Enum
from typing import Any

import typer

from lakectl.cli.boundary import guarded
from lakectl.cli.help import Text, command
from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import State


class InitTarget(str, Enum):
    local = "local"
    spark = "spark"
    databricks = "databricks"


@command(
    panel="Setup",
    examples=[
        ("lakectl init myproject", "a commented config and the lake's folders"),
        ("lakectl init . --target-kind databricks --dry-run", "what a Databricks project would get"),
    ],
    exits=(),
)
def init(
    ctx: typer.Context,
    directory: str = typer.Argument(".", metavar="[DIR]", click_type=Text(), help="Project folder (default: this one)."),
    target: InitTarget = typer.Option(
        InitTarget.local, "--target-kind", "-k", help="Default target: local Spark, a Spark Connect cluster, or Databricks."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing DIR/configs/lakectl.yaml."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Write a commented config (DIR/configs/lakectl.yaml) and the lake's folders, and print the next commands."""

    def write(state: State) -> Any:
        from lakectl.onboarding.init import init as write_project

        return write_project(directory, target.value, force=force, dry_run=dry_run)

    result, fmt = guarded(ctx, json_out, write)
    if fmt == "json":
        print(json.dumps(result.to_dict()))
        return
    m = result.metrics
    verb = "would write" if dry_run else "wrote"
    print(f"{verb} {m['config']} (default target: {m['target']})")
    print(f"{'would create' if dry_run else 'created'} {m['root']}/{{landing/events,tables,checkpoints,logs}}")
    print("next:")
    for step in m["next"]:
        print(f"  {step}")
