from __future__ import annotations

import sys
from enum import Enum
from typing import Any, Optional

import typer

from lakectl.cli.options import DRY_RUN, JSON
from lakectl.cli.state import OK_STATUSES, fail, load_settings_of, output_format, state_of


class Source(str, Enum):
    files = "files"
    kafka = "kafka"
    eventhubs = "eventhubs"
    kinesis = "kinesis"


class Stage(str, Enum):
    ingest = "ingest"
    transform = "transform"
    aggregate = "aggregate"


def run(
    ctx: typer.Context,
    source: Source = typer.Option(Source.files, "--source", "-s", metavar="SOURCE", help="Where the ingest stage reads events: files, kafka, eventhubs or kinesis."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Aggregate: recompute gold in full."),
    skip: Optional[list[Stage]] = typer.Option(None, "--skip", help="Leave out a stage (repeatable)."),
    dry_run: bool = DRY_RUN,
    json_out: bool = JSON,
) -> None:
    """Run the pipeline ingest -> transform -> aggregate in one process, with progress per stage."""
    state = state_of(ctx)
    fmt = output_format(ctx, json_out)
    as_json = fmt == "json"
    params = {"source": source.value, "full_refresh": full_refresh, "skip": [s.value for s in skip or []], "dry_run": dry_run}
    progress = None if as_json else _Progress()
    try:
        from lakectl.engine.context import JobContext
        from lakectl.jobs.run import run as run_pipeline

        settings = load_settings_of(state)
        target = settings.target(state.target)
        job_ctx = JobContext(settings=settings, target_name=state.target, verbose=state.verbose)
        if target.kind == "databricks":  # the whole pipeline runs as one Databricks run
            from lakectl.cli.status import StatusLine
            from lakectl.runners.dispatch import run_remote

            progress = None
            result = run_remote(settings, state.target, "run", params, run_id=job_ctx.run_id, timeout_s=state.timeout,
                                wait=not state.no_wait, verbose=state.verbose, status_line=StatusLine)
        else:
            from lakectl.monitor.ledger import recording

            if progress:
                progress.start()
            with recording(job_ctx, "run", params) as record:  # one parent row; the stages nest under it
                result = run_pipeline(job_ctx, params, on_stage=progress.event if progress else None)
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
    if result.status not in OK_STATUSES:
        raise typer.Exit(1)


class _Progress:
    """A rich progress display on stderr: one line per stage with its state, time and rows."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.progress = Progress(SpinnerColumn(finished_text="[green]✓[/]"), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.tasks: dict[str, Any] = {}
        self.current: str | None = None

    def start(self) -> None:
        if self.console.is_terminal:
            self.progress.start()

    def event(self, stage: str, kind: str, result: Any) -> None:
        if kind == "start":
            self.current = stage
            self.tasks[stage] = self.progress.add_task(f"[bold]{stage}[/] running…", total=1)
            if not self.console.is_terminal:
                print(f"lakectl: {stage} started", file=sys.stderr, flush=True)
            return
        rows = f"{result.rows_written:,} rows written" if result is not None else ""
        self.progress.update(self.tasks[stage], completed=1, description=f"[bold]{stage}[/] {result.status if result else ''} {rows}")
        self.current = None
        if not self.console.is_terminal and result is not None:
            print(f"lakectl: {stage} {result.status} in {result.duration_s:.1f}s, {rows}", file=sys.stderr, flush=True)

    def stop(self, *, failed: bool) -> None:
        if failed and self.current in self.tasks:
            self.progress.update(self.tasks[self.current], description=f"[bold red]{self.current} failed[/]")
        if self.console.is_terminal:
            self.progress.stop()
