from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, choices_text, option, options_from
from lakectl.core.sources import Source
from lakectl.jobs.params import IngestParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl ingest", "new landing files into bronze.events"),
        ("lakectl ingest --source kafka --dry-run", "what a Kafka run would read: pending offsets per partition"),
        (
            "lakectl ingest --source kafka --continuous --trigger-interval '30 seconds'",
            "keep streaming; Ctrl-C stops after the batch in flight",
        ),
    ],
    exits=(1, 3, 4, 5, 6),
)
@options_from(
    IngestParams,
    source=option("-s", metavar="SOURCE", help=f"Where events come from: {choices_text(Source)} (kinesis needs a Databricks target)."),
    path=option(help="Files source: the landing folder (default: from the config)."),
    topic=option(field="topics", help="Kafka topic to read (repeatable; Event Hubs: the event hub). Default: from the config."),
    topic_pattern=option(help="Kafka: subscribe to every topic matching this regex."),
    bootstrap_servers=option(help="Kafka: host:port[,host:port] (default: from the config)."),
    starting_offsets=option(help="Kafka: where a NEW stream starts: earliest | latest | JSON offsets."),
    max_offsets_per_trigger=option(metavar="N", help="Kafka: at most this many records per micro-batch."),
    allow_data_loss=option(help="Kafka: continue past expired offsets or a deleted topic, recording the skipped ranges (default: exit 5)."),
    continuous=option(help="Keep running; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval=option(help="Micro-batch interval with --continuous, e.g. '30 seconds'."),
    checkpoint=option(help="Checkpoint folder (default: the source's folder under the checkpoints root)."),
    dry_run=DRY_RUN,
)
def ingest(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Ingest new events into bronze.events, exactly once; bad records go to bronze.quarantine with a reason."""
    run_job(ctx, "ingest", params, json_out)
