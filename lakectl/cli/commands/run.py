from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, choices_text, option, options_from
from lakectl.core.sources import Source
from lakectl.jobs.params import RunParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl run", "ingest, transform and aggregate what is new"),
        ("lakectl run --source kafka --skip aggregate", "the first two stages from Kafka"),
        ("lakectl run --source kafka --continuous", "every stage as a stream, Kafka to gold (and scores), until Ctrl-C"),
    ],
    exits=(1, 3, 4, 5, 6),
)
@options_from(
    RunParams,
    source=option("-s", metavar="SOURCE", help=f"Where the ingest stage reads events: {choices_text(Source)}."),
    full_refresh=option(help="Aggregate: recompute gold in full."),
    skip=option(help="Leave out a stage (repeatable)."),
    continuous=option(help="Run every stage as a stream in this one process until Ctrl-C or SIGTERM (scores too, when a champion exists)."),
    trigger_interval=option(help="Micro-batch interval of every stream with --continuous, e.g. '1 second'."),
    dry_run=DRY_RUN,
)
def run(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Run the pipeline ingest -> transform -> aggregate in one process, with progress per stage."""
    run_job(ctx, "run", params, json_out, progress="stages")  # on Databricks: the whole pipeline as one run
