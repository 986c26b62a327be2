"""What a command shows on stderr while its job runs: a spinner, a line per stage, a remote run's status line."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakectl.jobs.run import StageEvent


@contextmanager
def spinner(job: str, *, shown: bool = True) -> Iterator[None]:
    """A spinner with the job's name while it runs, on a terminal only."""
    if not shown or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(f"[bold]{job}[/] running…"):
        yield


@contextmanager
def stage_progress(*, shown: bool = True) -> Iterator[StageEvent | None]:
    """A line per stage (live on a terminal, plain lines otherwise); yields the callback a job of stages calls."""
    if not shown:
        yield None
        return
    progress = StageProgress()
    progress.start()
    try:
        yield progress.event
    except BaseException:
        progress.stop(failed=True)
        raise
    progress.stop(failed=False)


class StageProgress:
    """A rich progress display on stderr: one line per stage with its state, time and rows."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
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
            from lakectl.core.formatting import duration

            print(f"lakectl: {stage} {result.status} in {duration(result.duration_s)}, {rows}", file=sys.stderr, flush=True)

    def stop(self, *, failed: bool) -> None:
        if failed and self.current in self.tasks:
            self.progress.update(self.tasks[self.current], description=f"[bold red]{self.current} failed[/]")
        if self.console.is_terminal:
            self.progress.stop()


class StatusLine:
    """One live line on stderr (state, elapsed time, run page URL); plain lines on state changes when
    stderr is not a terminal."""

    def __enter__(self) -> StatusLine:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.live = self.console.status("submitting to Databricks…") if self.console.is_terminal else None
        if self.live:
            self.live.start()
        self.last_state: str | None = None
        self.started = time.monotonic()
        return self

    def __call__(self, text: str) -> None:
        if self.live:
            self.live.update(text)
            return
        state = text.split(":", 1)[-1].split()[0] if ":" in text else text
        if state != self.last_state:
            self.last_state = state
            print(f"lakectl: {text}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.stop()
