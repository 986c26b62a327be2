from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class Featurizer(str, Enum):
    encoder = "encoder"
    tfidf = "tfidf"


def train(
    ctx: typer.Context,
    promote: Optional[bool] = typer.Option(None, "--promote/--no-promote", help="Force the new version to champion, or keep it challenger (default: the gate decides)."),
    featurizer: Optional[Featurizer] = typer.Option(None, "--featurizer", help="encoder (MiniLM sentence embeddings) or tfidf (pure Spark); default: ml.featurizer."),
    version: Optional[int] = typer.Option(None, "--version", min=0, help="Read silver.reviews at this Delta version (default: the latest)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Train the sentiment model on silver.reviews, track it in MLflow, register a version and promote it if it passes the gate."""
    execute(ctx, "train", {
        "promote": promote, "featurizer": featurizer.value if featurizer else None, "version": version, "dry_run": dry_run,
    }, json_out=json_out)
