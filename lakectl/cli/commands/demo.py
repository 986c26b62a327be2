from __future__ import annotations

import typer

from lakectl.cli.options import JSON
from lakectl.cli.state import execute


def demo(
    ctx: typer.Context,
    events: int = typer.Option(50_000, "--events", "-n", min=1, help="Events to generate for the day."),
    bad_fraction: float = typer.Option(0.01, "--bad-fraction", min=0.0, max=0.99, help="Share of malformed records."),
    json_out: bool = JSON,
) -> None:
    """Run the whole pipeline end to end on the local default: generate a day of data, then every stage."""
    execute(ctx, "demo", {"events": events, "bad_fraction": bad_fraction}, json_out=json_out)
