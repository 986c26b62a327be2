"""Follow a run submitted earlier (`--no-wait`): its status, its log, cancelling it."""

from __future__ import annotations

from typing import Any

from lakectl.config import DatabricksTarget
from lakectl.core.errors import UsageError
from lakectl.engine.workspace import api_errors, workspace_client


def _client_and_run(target: DatabricksTarget, run_id: int) -> tuple[Any, Any]:
    w = workspace_client(target)
    with api_errors(target, f"reading run {run_id}"):
        try:
            return w, w.jobs.get_run(run_id)
        except Exception as exc:
            if "does not exist" in str(exc):
                raise UsageError(f"Databricks run {run_id} does not exist", "check the run id (lakectl printed it at submit)") from None
            raise


def status(target: DatabricksTarget, run_id: int) -> dict[str, Any]:
    _, run = _client_and_run(target, run_id)
    state = run.state
    return {
        "run_id": run.run_id,
        "run_name": run.run_name,
        "state": state.life_cycle_state.value if state and state.life_cycle_state else None,
        "result_state": state.result_state.value if state and state.result_state else None,
        "state_message": state.state_message if state else None,
        "run_page_url": run.run_page_url,
        "start_time": run.start_time,
        "end_time": run.end_time or None,
    }


def logs(target: DatabricksTarget, run_id: int) -> dict[str, Any]:
    w, run = _client_and_run(target, run_id)
    task_run_id = run.tasks[0].run_id if run.tasks else run.run_id
    with api_errors(target, f"reading the output of run {run_id}"):
        out = w.jobs.get_run_output(task_run_id)
    return {
        "run_id": run_id,
        "logs": out.logs or "",
        "logs_truncated": bool(out.logs_truncated),
        "error": out.error,
        "error_trace": out.error_trace,
    }


def cancel(target: DatabricksTarget, run_id: int, *, dry_run: bool = False) -> dict[str, Any]:
    from lakectl.runners.databricks.remote import TERMINAL, cancel_and_wait

    w, run = _client_and_run(target, run_id)
    state = run.state.life_cycle_state.value if run.state and run.state.life_cycle_state else None
    if state in TERMINAL:
        return {"run_id": run_id, "cancelled": False, "state": state, "dry_run": dry_run}
    if not dry_run:
        cancel_and_wait(w, target, run_id)
    return {"run_id": run_id, "cancelled": not dry_run, "state": state, "dry_run": dry_run}
