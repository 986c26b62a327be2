"""Where a job runs when its target is a Databricks workspace: SQL-only jobs on the target's SQL warehouse,
everything else submitted as a run of lakectl's wheel. Its Result comes back here either way."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Callable

from lakectl.config import DatabricksTarget, Settings
from lakectl.core.results import Result

StatusLine = Callable[[], AbstractContextManager[Callable[[str], None]]]


def run_remote(settings: Settings, target_name: str | None, job: str, params: dict[str, Any], *, run_id: str,
               timeout_s: float | None = None, wait: bool = True, verbose: bool = False,
               status_line: StatusLine | None = None) -> Result:
    """Run `job` on the Databricks target `target_name`; `status_line` shows the run's state while it is watched."""
    from lakectl.runners.databricks.remote import Submission, submit_job

    name = target_name or settings.default_target
    target = settings.target(name)
    assert isinstance(target, DatabricksTarget)
    timeout = timeout_s if timeout_s else target.timeout_minutes * 60
    if job in ("query", "optimize") and target.warehouse_id:  # SQL only: a warehouse answers in seconds, no cluster starts
        if job == "query":
            from lakectl.runners.databricks.warehouse import run_query as run_sql
        else:  # maintenance is SQL too: statements on the warehouse
            from lakectl.runners.databricks.warehouse_optimize import run_optimize as run_sql
        result = run_sql(settings, target, params, timeout)
        result.metrics.setdefault("run_id", run_id)  # like every local result: find the run by it
        return result
    sub = Submission(settings=settings, target_name=name, target=target, job=job, params=params,
                     run_id=run_id, timeout_s=timeout, wait=wait, verbose=verbose)
    if status_line is None:
        return submit_job(sub)
    with status_line() as status:
        return submit_job(sub, status=status)
