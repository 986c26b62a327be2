from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


class Destination(str, Enum):
    files = "files"
    kafka = "kafka"


def generate(
    ctx: typer.Context,
    events: int = typer.Option(100_000, "--events", "-n", min=0, help="How many events to write."),
    seed: int = typer.Option(42, "--seed", help="Random seed; the same seed and options give the same files."),
    start: Optional[datetime] = typer.Option(None, "--start", help="First day (UTC) (default: yesterday)."),
    days: float = typer.Option(1.0, "--days", min=0.01, help="Length of the time range in days."),
    bad_fraction: float = typer.Option(0.0, "--bad-fraction", min=0.0, max=0.99, help="Share of malformed records mixed in."),
    duplicate_fraction: float = typer.Option(0.0, "--duplicate-fraction", min=0.0, max=0.99, help="Share of re-delivered (duplicate) events."),
    customers: Optional[int] = typer.Option(None, "--customers", min=1, help="Number of customers (default: events/50)."),
    products: Optional[int] = typer.Option(None, "--products", min=1, help="Number of products (default: events/500, at most 2000)."),
    out: Optional[str] = typer.Option(None, "--out", help="Landing folder (default: storage.landing from the config)."),
    to: Destination = typer.Option(Destination.files, "--to", help="files: JSON-lines in the landing folder; kafka: records (key = customer_id) into a topic."),
    topic: Optional[str] = typer.Option(None, "--topic", help="With --to kafka: the topic (default: the first of sources.kafka.topics)."),
    partitions: Optional[int] = typer.Option(None, "--partitions", min=1, help="With --to kafka: create the topic with N partitions if it does not exist."),
    bootstrap_servers: Optional[str] = typer.Option(None, "--bootstrap-servers", help="With --to kafka: host:port (default: the configured Kafka bootstrap servers)."),
    review_texts: Optional[str] = typer.Option(None, "--review-texts", help="Draw review texts from a labelled corpus: TSV/CSV text,label (0/1 or negative/positive) or JSON lines; ratings follow the labels."),
    neutral_share: float = typer.Option(0.1, "--neutral-share", min=0.0, max=1.0, help="With --review-texts: share of reviews rated 3 (kept, but without a training label)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Generate realistic synthetic customers, products and events as JSON-lines files (or into a Kafka topic)."""
    execute(ctx, "generate", {
        "events": events, "seed": seed, "start": start, "days": days, "bad_fraction": bad_fraction,
        "duplicate_fraction": duplicate_fraction, "customers": customers, "products": products, "out": out,
        "to": to.value, "topic": topic, "partitions": partitions, "bootstrap_servers": bootstrap_servers,
        "review_texts": review_texts, "neutral_share": neutral_share, "dry_run": dry_run,
    }, json_out=json_out)
