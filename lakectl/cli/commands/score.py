from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, argument, option, options_from
from lakectl.jobs.params import ScoreParams

CONTINUOUS = ("continuous", "trigger_interval", "checkpoint")  # what --continuous uses
SERVED = ("via", "endpoint", "batch_size", "concurrency", "max_attempts", "request_timeout_s")  # what --via uses


@command(
    panel="Models",
    examples=[
        ("lakectl score", "new reviews with the champion"),
        ("lakectl score --model sentiment/3 --rescore", "every review again with version 3"),
        ("lakectl score --via endpoint http://127.0.0.1:5001", "through a served model"),
    ],
    exits=(1, 3, 4, 6),
)
@options_from(
    ScoreParams,
    endpoint=argument(
        metavar="[URL|NAME]",
        show_default=False,
        help="With --via: the scoring server URL (/invocations is added when it has no path) or the Databricks serving endpoint NAME.",
    ),
    model=option("-m", help="NAME@ALIAS, NAME/VERSION or VERSION (default: <ml.model_name>@champion)."),
    rescore=option(help="Score every review again with this model version (replacing its scores)."),
    continuous=option(help="Keep scoring reviews as they land in silver; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval=option(help="Micro-batch interval with --continuous, e.g. '5 seconds'."),
    checkpoint=option(help="Checkpoint folder with --continuous (default: one per model version)."),
    via=option(help="Score through a served model: `endpoint URL|NAME` or `ai_query NAME` (Databricks)."),
    batch_size=option(help="--via endpoint: texts per request."),
    concurrency=option(help="--via endpoint: requests in flight at once."),
    max_attempts=option(help="--via endpoint: tries per request on 429/5xx/connection errors (backoff with jitter)."),
    request_timeout=option(field="request_timeout_s", help="--via endpoint: seconds per request."),
    dry_run=DRY_RUN,
)
def score(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Score silver.reviews with a registered model into silver.review_scores, incrementally and exactly once."""
    # the job (and its row in the run ledger) gets the options of the way of scoring asked for, not the others
    unused = (() if params["continuous"] else CONTINUOUS) + (() if params["via"] is not None or params["endpoint"] is not None else SERVED)
    run_job(ctx, "score", {k: v for k, v in params.items() if k not in unused}, json_out)
