from __future__ import annotations

import sys

import typer

from lakectl.cli.options import JSON
from lakectl.cli.state import fail, load_settings_of, output_format, state_of

NEXT_STEPS = ("lakectl monitor tables", 'lakectl query "SELECT * FROM gold.kpi_hourly ORDER BY event_hour DESC" --limit 24',
              "lakectl monitor report --html report.html", "lakectl init myproject   # a config of your own")


def demo(
    ctx: typer.Context,
    events: int = typer.Option(50_000, "--events", "-n", min=1, help="Events to generate for the day."),
    bad_fraction: float = typer.Option(0.01, "--bad-fraction", min=0.0, max=0.99, help="Share of malformed records."),
    json_out: bool = JSON,
) -> None:
    """Run the whole pipeline end to end on the local default: generate a day of data, then every stage."""
    from lakectl.cli.commands.run import _Progress

    state = state_of(ctx)
    fmt = output_format(ctx, json_out)
    as_json = fmt == "json"
    params = {"events": events, "bad_fraction": bad_fraction}
    progress = None if as_json else _Progress()  # a line per stage, on a terminal or not
    try:
        from lakectl.engine.context import JobContext
        from lakectl.jobs.demo import run as run_demo
        from lakectl.monitor.ledger import recording

        settings = load_settings_of(state)
        settings.target(state.target)
        job_ctx = JobContext(settings=settings, target_name=state.target, verbose=state.verbose)
        if progress:
            progress.start()
        with recording(job_ctx, "demo", params) as record:  # one parent row; the stages nest under it
            result = run_demo(job_ctx, params, on_stage=progress.event if progress else None)
            result.metrics.setdefault("run_id", record.run_id)
            record.result = result
    except typer.Exit:
        raise
    except BaseException as exc:
        if progress:
            progress.stop(failed=True)
        fail(exc, verbose=state.verbose, as_json=as_json)
    if progress:
        progress.stop(failed=False)
    from lakectl.cli.render import render_result

    render_result(result, fmt=fmt)
    if result.status not in ("ok", "dry_run"):
        raise typer.Exit(1)
    if not as_json:
        print("next:\n" + "\n".join(f"  {step}" for step in NEXT_STEPS), file=sys.stderr)
