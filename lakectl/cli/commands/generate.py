from __future__ import annotations

from datetime import datetime
from typing import Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import execute


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
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Generate realistic synthetic customers, products and events as JSON-lines files."""
    execute(ctx, "generate", {
        "events": events, "seed": seed, "start": start, "days": days, "bad_fraction": bad_fraction,
        "duplicate_fraction": duplicate_fraction, "customers": customers, "products": products, "out": out,
        "dry_run": dry_run,
    }, json_out=json_out)
