from __future__ import annotations

import sys
from typing import Any

import typer

from lakectl.cli.boundary import OK_STATUSES, run_job
from lakectl.cli.help import command
from lakectl.cli.params import option, options_from
from lakectl.jobs.params import DemoParams

NEXT_STEPS = (
    "lakectl monitor tables",
    'lakectl query "SELECT * FROM gold.kpi_hourly ORDER BY event_hour DESC" --limit 24',
    "lakectl monitor report --html report.html",
    "lakectl init myproject   # a config of your own",
)


@command(
    panel="Pipeline",
    examples=[
        ("lakectl demo", "a day of synthetic data through every stage"),
        ("lakectl demo -n 20000 --bad-fraction 0.05", "smaller, with more bad records to quarantine"),
    ],
    exits=(1, 3),
)
@options_from(
    DemoParams,
    events=option("-n", help="Events to generate for the day."),
    bad_fraction=option(help="Share of malformed records."),
)
def demo(ctx: typer.Context, params: dict[str, Any], json_out: bool) -> None:
    """Run the whole pipeline end to end on the local default: generate a day of data, then every stage."""
    run_job(ctx, "demo", params, json_out, remote=False, progress="stages", present=_with_next_steps)


def _with_next_steps(result: Any, fmt: str) -> None:
    from lakectl.cli.render import render_result

    render_result(result, fmt=fmt)
    if fmt != "json" and result.status in OK_STATUSES:
        print("next:\n" + "\n".join(f"  {step}" for step in NEXT_STEPS), file=sys.stderr)
