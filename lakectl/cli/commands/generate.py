from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, option, options_from
from lakectl.jobs.params import GenerateParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl generate -n 100000", "a day of events into the landing folder"),
        ("lakectl generate --to kafka --topic lakectl.events --partitions 3", "the same into a Kafka topic"),
        ("lakectl generate --bad-fraction 0.02 --seed 7", "with 2% malformed records, reproducibly"),
    ],
    exits=(1, 4),
)
@options_from(
    GenerateParams,
    events=option("-n", help="How many events to write."),
    seed=option(help="Random seed; the same seed and options give the same files."),
    start=option(help="First day (UTC) (default: yesterday)."),
    days=option(help="Length of the time range in days."),
    bad_fraction=option(help="Share of malformed records mixed in."),
    duplicate_fraction=option(help="Share of re-delivered (duplicate) events."),
    customers=option(help="Number of customers (default: events/50)."),
    products=option(help="Number of products (default: events/500, at most 2000)."),
    out=option(help="Landing folder (default: storage.landing from the config)."),
    to=option(help="files: JSON-lines in the landing folder; kafka: records (key = customer_id) into a topic."),
    topic=option(help="With --to kafka: the topic (default: the first of sources.kafka.topics)."),
    partitions=option(help="With --to kafka: create the topic with N partitions if it does not exist."),
    bootstrap_servers=option(help="With --to kafka: host:port (default: the configured Kafka bootstrap servers)."),
    review_texts=option(
        help="Draw review texts from a labelled corpus: TSV/CSV text,label (0/1 or negative/positive) or JSON lines; ratings follow the labels."
    ),
    neutral_share=option(help="With --review-texts: share of reviews rated 3 (kept, but without a training label)."),
    dry_run=DRY_RUN,
)
def generate(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Generate realistic synthetic customers, products and events as JSON-lines files (or into a Kafka topic)."""
    run_job(ctx, "generate", params, json_out)
