from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class Source(str, Enum):
    files = "files"
    kafka = "kafka"
    eventhubs = "eventhubs"
    kinesis = "kinesis"


def ingest(
    ctx: typer.Context,
    source: Source = typer.Option(Source.files, "--source", "-s", metavar="SOURCE", help="Where events come from: files, kafka, eventhubs or kinesis (kinesis needs a Databricks target)."),
    path: Optional[str] = typer.Option(None, "--path", help="Files source: the landing folder (default: from the config)."),
    topic: Optional[List[str]] = typer.Option(None, "--topic", help="Kafka topic to read (repeatable; Event Hubs: the event hub). Default: from the config."),
    topic_pattern: Optional[str] = typer.Option(None, "--topic-pattern", help="Kafka: subscribe to every topic matching this regex."),
    bootstrap_servers: Optional[str] = typer.Option(None, "--bootstrap-servers", help="Kafka: host:port[,host:port] (default: from the config)."),
    starting_offsets: Optional[str] = typer.Option(None, "--starting-offsets", help="Kafka: where a NEW stream starts: earliest | latest | JSON offsets."),
    max_offsets_per_trigger: Optional[int] = typer.Option(None, "--max-offsets-per-trigger", min=1, metavar="N", help="Kafka: at most this many records per micro-batch."),
    allow_data_loss: bool = typer.Option(False, "--allow-data-loss", help="Kafka: continue past expired offsets or a deleted topic, recording the skipped ranges (default: exit 5)."),
    continuous: bool = typer.Option(False, "--continuous", help="Keep running; stop cleanly on Ctrl-C or SIGTERM."),
    trigger_interval: Optional[str] = typer.Option(None, "--trigger-interval", help="Micro-batch interval with --continuous, e.g. '30 seconds'."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Checkpoint folder (default: the source's folder under the checkpoints root)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Ingest new events into bronze.events, exactly once; bad records go to bronze.quarantine with a reason."""
    execute(ctx, "ingest", {
        "source": source.value, "path": path, "continuous": continuous, "trigger_interval": trigger_interval,
        "checkpoint": checkpoint, "dry_run": dry_run, "allow_data_loss": allow_data_loss, "topics": topic or None,
        "topic_pattern": topic_pattern, "bootstrap_servers": bootstrap_servers, "starting_offsets": starting_offsets,
        "max_offsets_per_trigger": max_offsets_per_trigger,
    }, json_out=json_out)
