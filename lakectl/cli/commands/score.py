from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class Via(str, Enum):
    endpoint = "endpoint"  # an MLflow scoring server URL, or a Databricks serving endpoint NAME
    ai_query = "ai_query"  # SQL ai_query() on a Databricks target


def score(
    ctx: typer.Context,
    endpoint: Optional[str] = typer.Argument(None, metavar="[URL|NAME]", show_default=False,
                                             help="With --via: the scoring server URL (/invocations is added when it has no path) or the Databricks serving endpoint NAME."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="NAME@ALIAS, NAME/VERSION or VERSION (default: <ml.model_name>@champion)."),
    rescore: bool = typer.Option(False, "--rescore", help="Score every review again with this model version (replacing its scores)."),
    continuous: bool = typer.Option(False, "--continuous", help="Keep scoring reviews as they land in silver; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval: Optional[str] = typer.Option(None, "--trigger-interval", help="Micro-batch interval with --continuous, e.g. '5 seconds'."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Checkpoint folder with --continuous (default: one per model version)."),
    via: Optional[Via] = typer.Option(None, "--via", help="Score through a served model: `endpoint URL|NAME` or `ai_query NAME` (Databricks)."),
    batch_size: int = typer.Option(256, "--batch-size", help="--via endpoint: texts per request."),
    concurrency: int = typer.Option(4, "--concurrency", help="--via endpoint: requests in flight at once."),
    max_attempts: int = typer.Option(5, "--max-attempts", help="--via endpoint: tries per request on 429/5xx/connection errors (backoff with jitter)."),
    request_timeout: float = typer.Option(60.0, "--request-timeout", help="--via endpoint: seconds per request."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Score silver.reviews with a registered model into silver.review_scores, incrementally and exactly once."""
    params: dict = {"model": model, "rescore": rescore, "dry_run": dry_run}
    if continuous:
        params.update(continuous=True, trigger_interval=trigger_interval, checkpoint=checkpoint)
    if via is not None or endpoint is not None:
        params.update(via=via.value if via else None, endpoint=endpoint, batch_size=batch_size, concurrency=concurrency,
                      max_attempts=max_attempts, request_timeout_s=request_timeout)
    execute(ctx, "score", params, json_out=json_out)
