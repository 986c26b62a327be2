from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class Source(str, Enum):
    files = "files"


def ingest(
    ctx: typer.Context,
    source: Source = typer.Option(Source.files, "--source", "-s", help="Where events come from."),
    path: Optional[str] = typer.Option(None, "--path", help="Files source: the landing folder (default: from the config)."),
    continuous: bool = typer.Option(False, "--continuous", help="Keep running; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval: Optional[str] = typer.Option(None, "--trigger-interval", help="Micro-batch interval with --continuous, e.g. '30 seconds'."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Checkpoint folder (default: <checkpoints>/ingest/<source>)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Ingest new events into bronze.events, exactly once; bad records go to bronze.quarantine with a reason."""
    execute(ctx, "ingest", {
        "source": source.value, "path": path, "continuous": continuous, "trigger_interval": trigger_interval,
        "checkpoint": checkpoint, "dry_run": dry_run,
    }, json_out=json_out)
