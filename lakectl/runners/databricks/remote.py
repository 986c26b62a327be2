"""Run one lakectl job on Databricks: package, upload, submit, watch, read the Result back.

The job runs as a python_wheel_task calling `lakectl-job NAME --params JSON` from lakectl's own
wheel; its `LAKECTL_RESULT {...}` line (get_run_output of the task run) is the Result printed here.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakectl.config import DatabricksTarget, Settings
from lakectl.core.errors import Interrupted, JobFailed, LakectlError
from lakectl.core.results import Result
from lakectl.engine.workspace import api_errors, workspace_client

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
TASK_KEY = "lakectl"
TRACE_LINES = 15
REMOTE_TIMEOUT_MARGIN_S = 60


class RemoteJobError(LakectlError):
    """The job failed on the cluster with one of lakectl's own errors: keep its kind and exit code."""

    def __init__(self, message: str, hint: str | None, exit_code: int, kind: str) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code
        self.kind = kind


@dataclass
class Submission:
    settings: Settings
    target_name: str
    target: DatabricksTarget
    job: str
    params: dict[str, Any]
    run_id: str  # lakectl's run id: the idempotency token and the run's name carry it
    timeout_s: float
    wait: bool = True
    verbose: bool = False  # the job prints its stack trace into the run's log


def submit_job(sub: Submission, *, status: Callable[[str], None] | None = None) -> Result:
    """Submit `sub.job` and (unless no-wait) watch it to the end; the Result the job printed."""
    from lakectl.runners.databricks.artifacts import upload
    from lakectl.runners.databricks.wheel import build_wheel

    target = sub.target
    w = workspace_client(target)
    wheel = build_wheel()
    with api_errors(target, "uploading lakectl's wheel and config"):
        artifacts = upload(w, target, sub.settings, wheel)
    result_file = f"{artifacts.directory}/results/lakectl-result-{sub.run_id}.json"
    request = submit_request(sub, artifacts.wheel, artifacts.config, result_file)
    ids = {"run_id": sub.run_id}
    with _cancel_on_signal():
        remote_id: int | None = None
        try:
            with api_errors(target, "submitting the run"):
                remote_id = w.jobs.submit(**request).run_id  # type: ignore[arg-type]
                run = w.jobs.get_run(remote_id)
            url = run.run_page_url or ""
            if not sub.wait:
                return Result(job=sub.job, status="submitted", metrics={**ids, "databricks_run_id": remote_id, "run_page_url": url})
            run = watch(w, target, remote_id, sub.timeout_s, status)
        except KeyboardInterrupt:
            if remote_id is None:
                # The submit may have reached the workspace: the same idempotency token names that run
                # (or starts it, to be cancelled at once) so nothing is left running unseen.
                with api_errors(target, "finding the interrupted submit's run"):
                    remote_id = w.jobs.submit(**request).run_id  # type: ignore[arg-type]
            assert remote_id is not None
            cancel_and_wait(w, target, remote_id)
            raise Interrupted(f"interrupted: cancelled Databricks run {remote_id}") from None
    result = outcome(w, target, run, result_file)
    result.metrics.setdefault("run_id", sub.run_id)
    return result


def idempotency_token(project: str, run_id: str) -> str:
    """64 characters whatever the project's name: the run is named by a hash of (project, lakectl run id),
    so two runs never share a token (a cut-off token once returned an earlier run's result)."""
    return "lakectl-" + hashlib.sha256(f"{project}\0{run_id}".encode()).hexdigest()[:56]


def submit_request(sub: Submission, wheel_path: str, config_path: str, result_file: str | None = None) -> dict[str, Any]:
    """The keyword arguments of jobs.submit: one python_wheel_task on the target's compute."""
    from databricks.sdk.service import jobs

    from lakectl.runners.databricks.compute import job_level, job_packages, task_compute

    target = sub.target
    parameters = [
        sub.job,
        "--params",
        json.dumps(sub.params, default=str),
        "--config",
        config_path,
        "--target",
        sub.target_name,
        "--run-id",
        sub.run_id,
        "--on-cluster",
        *(["--result-file", result_file] if result_file else []),
        *(["--verbose"] if sub.verbose else []),
    ]
    # The workspace's own bound is a backstop (a --no-wait run, a watcher that died); a watching lakectl
    # cancels at its own deadline first, so it can say why.
    timeout = int(sub.timeout_s) + (REMOTE_TIMEOUT_MARGIN_S if sub.wait else 0)
    tags = {"lakectl_project": sub.settings.project, "lakectl_run_id": sub.run_id, "lakectl_job": sub.job}
    packages = job_packages(sub.settings, [sub.job])
    task = {
        "task_key": TASK_KEY,
        "python_wheel_task": {"package_name": "lakectl", "entry_point": "lakectl-job", "parameters": parameters},
        "timeout_seconds": timeout,
        **task_compute(target, sub.target_name, wheel_path, packages, tags),
    }
    settings = job_level(target, wheel_path, packages)
    request: dict[str, Any] = {
        "run_name": f"lakectl {sub.settings.project} {sub.job} {sub.run_id}",
        "idempotency_token": idempotency_token(sub.settings.project, sub.run_id),
        "timeout_seconds": timeout,
        "tasks": [jobs.SubmitTask.from_dict(task)],
    }
    if "environments" in settings:
        request["environments"] = [jobs.JobEnvironment.from_dict(e) for e in settings["environments"]]
    if "environment_variables" in settings:
        request["environment_variables"] = [jobs.JobEnvironmentVariables.from_dict(e) for e in settings["environment_variables"]]
    return request


def watch(w: WorkspaceClient, target: DatabricksTarget, run_id: int, timeout_s: float, status: Callable[[str], None] | None) -> Any:
    """Poll the run until it ends; past the timeout, cancel it and fail."""
    started = time.monotonic()
    while True:
        with api_errors(target, f"watching run {run_id}"):
            run = w.jobs.get_run(run_id)
        state = run.state.life_cycle_state.value if run.state and run.state.life_cycle_state else "UNKNOWN"
        elapsed = time.monotonic() - started
        if status:
            status(f"Databricks run {run_id}: {state} {elapsed:.0f}s {run.run_page_url or ''}".rstrip())
        if state in TERMINAL:
            return run
        if elapsed > timeout_s:
            cancel_and_wait(w, target, run_id)
            raise JobFailed(
                f"Databricks run {run_id} did not finish within {timeout_s:g} s and was cancelled",
                "raise --timeout or the target's timeout_minutes",
            )
        time.sleep(min(target.poll_interval_s, max(0.1, timeout_s - elapsed + 0.1)))


def cancel_and_wait(w: WorkspaceClient, target: DatabricksTarget, run_id: int, limit_s: float = 120) -> None:
    """cancel_run, then wait (bounded) until the run has stopped."""
    with api_errors(target, f"cancelling run {run_id}"):
        w.jobs.cancel_run(run_id)
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            run = w.jobs.get_run(run_id)
            if run.state and run.state.life_cycle_state and run.state.life_cycle_state.value in TERMINAL:
                return
            time.sleep(min(1.0, target.poll_interval_s))


def outcome(w: WorkspaceClient, target: DatabricksTarget, run: Any, result_file: str | None = None) -> Result:
    """The job's Result: from the file it wrote beside the artifacts (its log may be cut to the last 5 MB),
    else from its LAKECTL_RESULT line; or the run's failure as an error, with the cluster's own message."""
    from lakectl.runners.jobentry import RESULT_PREFIX

    state = run.state
    result_state = state.result_state.value if state and state.result_state else None
    task_run_id = run.tasks[0].run_id if run.tasks else run.run_id
    where = f"Databricks run {run.run_id}: {run.run_page_url or ''}"
    doc = _read_result(w, target, result_file) if result_file else None
    out, output_error = None, None
    try:
        with api_errors(target, f"reading the output of run {run.run_id}"):
            out = w.jobs.get_run_output(task_run_id)
    except LakectlError as exc:
        output_error = exc
    logs = (out.logs if out else None) or ""
    if doc is None:
        line = next((ln for ln in reversed(logs.splitlines()) if ln.startswith(RESULT_PREFIX)), None)
        doc = json.loads(line[len(RESULT_PREFIX) :]) if line is not None else None
    if doc is not None:
        if doc.get("status") == "error":
            err = doc.get("error") or {}
            _print_trace((out.error_trace if out else None) or logs)
            raise RemoteJobError(
                f"{err.get('message', 'the job failed')} ({where})",
                err.get("hint"),
                int(err.get("exit_code", 1)),
                str(err.get("kind", "error")),
            )
        result = Result.from_dict(doc)
        result.metrics.update({"databricks_run_id": run.run_id, "run_page_url": run.run_page_url or ""})
        return result
    if result_state == "CANCELED":
        raise JobFailed(f"Databricks run {run.run_id} was cancelled ({run.run_page_url or ''})")
    if result_state == "TIMEDOUT":
        raise JobFailed(f"Databricks run {run.run_id} timed out ({run.run_page_url or ''})", "raise --timeout or timeout_minutes")
    if output_error is not None and result_state == "SUCCESS":
        raise output_error
    if result_state == "SUCCESS":
        cut = ", of which get-output serves the last 5 MB" if out is not None and out.logs_truncated else ""
        raise JobFailed(
            f"Databricks run {run.run_id} ended SUCCESS but lakectl could not read its result: no result file, and no "
            f"{RESULT_PREFIX.strip()} line in its output{cut} ({run.run_page_url or ''})",
            "the run page has the full log",
        )
    _print_trace((out.error_trace if out else None) or logs)
    reason = (out.error if out else None) or _cluster_message(run) or f"ended {result_state or 'without a result'}"
    if output_error is not None:
        reason += f" (its output could not be read: {output_error.message})"
    raise JobFailed(
        f"Databricks run {run.run_id} failed: {reason.splitlines()[0][:400]} ({run.run_page_url or ''})", "the run page has the full log"
    )


def _cluster_message(run: Any) -> str | None:
    """What the platform said about the run: the task's state message, else the run's."""
    for state in [t.state for t in run.tasks or [] if t.state] + [run.state]:
        if state is not None and state.state_message:
            return str(state.state_message)
    return None


def _read_result(w: WorkspaceClient, target: DatabricksTarget, path: str) -> dict[str, Any] | None:
    """The result file the job wrote (then removed), or None when there is none."""
    from lakectl.runners.databricks.artifacts import delete, read

    try:
        with api_errors(target, "reading the job's result file"):
            data = read(w, path)
            if data is not None:
                delete(w, path)
    except LakectlError:
        return None  # the log line is the fallback
    if data is None:
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _print_trace(text: str) -> None:
    lines = [ln for ln in text.splitlines() if ln.strip()][-TRACE_LINES:]
    for ln in lines:
        print(f"  | {ln}", file=sys.stderr)


class _cancel_on_signal:
    """SIGTERM behaves as Ctrl-C while a run is watched (both cancel the remote run)."""

    def __enter__(self) -> bool:
        self.previous = None
        try:
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread
            pass
        return True

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
