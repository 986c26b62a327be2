"""Commands on a Databricks target: the job is submitted there, and its Result comes back here."""

from __future__ import annotations

import sys
import time
from typing import Any

from lakectl.cli.state import State
from lakectl.results import Result
from lakectl.settings import DatabricksTarget, Settings


def run_remote(state: State, settings: Settings, job: str, params: dict[str, Any], *, run_id: str) -> Result:
    from lakectl.runners.databricks.remote import Submission, submit_job

    target_name = state.target or settings.default_target
    target = settings.target(target_name)
    assert isinstance(target, DatabricksTarget)
    timeout_s = state.timeout if state.timeout else target.timeout_minutes * 60
    if job in ("query", "optimize") and target.warehouse_id:  # SQL only: a warehouse answers in seconds, no cluster starts
        if job == "query":
            from lakectl.runners.databricks.warehouse import run_query as run_sql
        else:  # maintenance is SQL too: statements on the warehouse
            from lakectl.runners.databricks.warehouse_optimize import run_optimize as run_sql
        result = run_sql(settings, target, params, timeout_s)
        result.metrics.setdefault("run_id", run_id)  # like every local result: find the run by it
        return result
    sub = Submission(settings=settings, target_name=target_name, target=target, job=job, params=params,
                     run_id=run_id, timeout_s=timeout_s, wait=not state.no_wait, verbose=state.verbose)
    with StatusLine() as status:
        return submit_job(sub, status=status)


class StatusLine:
    """One live line on stderr (state, elapsed time, run page URL); plain lines on state changes when
    stderr is not a terminal."""

    def __enter__(self) -> "StatusLine":
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
