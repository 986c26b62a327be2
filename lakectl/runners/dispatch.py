"""Where a job runs when its target is a Databricks workspace: SQL-only jobs in this process with the target's
SQL warehouse as their engine (the same job code as everywhere), everything else submitted as a run of
lakectl's wheel. Its Result comes back here either way."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from lakectl.config import DatabricksTarget, Settings
from lakectl.core.results import Result

StatusLine = Callable[[], AbstractContextManager[Callable[[str], None]]]
# Jobs that are SQL only: with `warehouse_id` they run here on the warehouse (seconds, no cluster starts).
WAREHOUSE_JOBS = ("query", "optimize", "lineage")
# Of those, the ones a cluster is not submitted for: lineage reads Unity Catalog's system tables on the warehouse.
WAREHOUSE_ONLY = ("lineage",)


def run_remote(
    settings: Settings,
    target_name: str | None,
    job: str,
    params: dict[str, Any],
    *,
    run_id: str,
    timeout_s: float | None = None,
    wait: bool = True,
    verbose: bool = False,
    status_line: StatusLine | None = None,
) -> Result:
    """Run `job` on the Databricks target `target_name`; `status_line` shows the run's state while it is watched."""
    from lakectl.runners.databricks.remote import Submission, submit_job

    name = target_name or settings.default_target
    target = settings.target(name)
    assert isinstance(target, DatabricksTarget)
    timeout = timeout_s if timeout_s else target.timeout_minutes * 60
    if job in WAREHOUSE_ONLY and not target.warehouse_id:
        from lakectl.core.errors import ConfigError

        raise ConfigError(
            f"lakectl {job} on the Databricks target {name} reads Unity Catalog's system tables on a SQL warehouse, and the target has no warehouse_id",
            f"set targets.{name}.warehouse_id, or use --target local for the lineage lakectl recorded",
        )
    if job in WAREHOUSE_JOBS and target.warehouse_id:
        return _on_warehouse(settings, name, job, params, run_id=run_id, timeout_s=timeout, verbose=verbose)
    sub = Submission(settings, name, target, job, params, run_id=run_id, timeout_s=timeout, wait=wait, verbose=verbose)
    if status_line is None:
        return submit_job(sub)
    with status_line() as status:
        return submit_job(sub, status=status)


def _on_warehouse(
    settings: Settings, target_name: str, job: str, params: dict[str, Any], *, run_id: str, timeout_s: float, verbose: bool
) -> Result:
    """The job's own code with the warehouse as `ctx.engine`. Not recorded in the local run ledger: the
    lake it would write to is the workspace's."""
    from lakectl.core.results import Timer
    from lakectl.engine.context import JobContext
    from lakectl.jobs import load_job

    ctx = JobContext(settings=settings, target_name=target_name, verbose=verbose, run_id=run_id, statement_timeout_s=timeout_s)
    with Timer() as t:
        result = load_job(job).run(ctx, params)
    result.duration_s = result.duration_s or t.seconds
    result.metrics.setdefault("run_id", run_id)  # like every local result: find the run by it
    return result
