from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, option, options_from
from lakectl.jobs.params import TrainParams


@command(
    panel="Models",
    examples=[
        ("lakectl train", "a new version from silver.reviews; the gate decides on champion"),
        ("lakectl train --featurizer tfidf --no-promote", "a pure-Spark model kept as challenger"),
    ],
    exits=(1, 3, 4),
)
@options_from(
    TrainParams,
    promote=option("--promote/--no-promote", help="Force the new version to champion, or keep it challenger (default: the gate decides)."),
    featurizer=option(help="encoder (MiniLM sentence embeddings) or tfidf (pure Spark); default: ml.featurizer."),
    version=option(help="Read silver.reviews at this Delta version (default: the latest)."),
    dry_run=DRY_RUN,
)
def train(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Train the sentiment model on silver.reviews, track it in MLflow, register a version and promote it if it passes the gate."""
    run_job(ctx, "train", params, json_out)
