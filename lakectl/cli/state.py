"""The global options of a command line (`lakectl [OPTIONS] COMMAND`), as every command reads them."""

from __future__ import annotations

from dataclasses import dataclass

import typer


@dataclass
class State:
    config: str | None = None
    target: str | None = None
    json: bool = False  # --json or -o json
    output: str | None = None  # -o/--output as given: table, wide, json or csv
    verbose: bool = False
    no_wait: bool = False  # Databricks targets: print the run id and URL, do not watch
    timeout: float | None = None  # Databricks targets: bound on a run, in seconds


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()
