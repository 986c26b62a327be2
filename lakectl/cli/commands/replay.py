from __future__ import annotations

from typing import Any

import typer

from lakectl.cli.boundary import run_job
from lakectl.cli.help import command
from lakectl.cli.params import DRY_RUN, option, options_from
from lakectl.jobs.params import ReplayParams


@command(
    panel="Pipeline",
    examples=[
        ("lakectl replay --dry-run", "how many silver.quarantine rows would move now, without writing"),
        ("lakectl replay --rule price_range", "the rows a loosened rule quarantined, into silver.events"),
        ("lakectl replay --layer bronze --since 2d", "bronze.quarantine of the last two days, parsed again"),
    ],
    exits=(1, 6),
)
@options_from(
    ReplayParams,
    layer=option(help="Which quarantine: silver (into silver.events) or bronze (into bronze.events)."),
    rule=option(help="Only rows that failed this rule (bronze: this reason, e.g. type_mismatch:price)."),
    since=option(help="Only rows quarantined since: an ISO date/time (UTC) or a span back, e.g. 90m, 6h, 2d."),
    dry_run=DRY_RUN,
)
def replay(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Re-run quarantined records through today's parsing and rules: passing ones move on exactly once, the rest keep the new reason."""
    run_job(ctx, "replay", params, json_out)
