"""Run one lakectl job on Databricks: package, upload, submit, watch, read the Result back.

The job runs as a python_wheel_task calling `lakectl-job NAME --params JSON` from lakectl's own
wheel; its `LAKECTL_RESULT {...}` line (get_run_output of the task run) is the Result printed here.
"""

from __future__ import annotations

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
    with api_errors(target, "uploading lakectl's wheel"):
        artifacts = upload(w, target, sub.settings, wheel)
    request = submit_request(sub, artifacts.wheel, artifacts.config)
    with _cancel_on_signal():
        remote_id: int | None = None
        try:
            with api_errors(target, "submitting the run"):
                remote_id = w.jobs.submit(**request).run_id  # type: ignore[arg-type]
                run = w.jobs.get_run(remote_id)
            url = run.run_page_url or ""
            if not sub.wait:
                return Result(job=sub.job, status="submitted", metrics={"run_id": remote_id, "run_page_url": url})
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
    return outcome(w, target, run)


def submit_request(sub: Submission, wheel_path: str, config_path: str) -> dict[str, Any]:
    """The keyword arguments of jobs.submit: one python_wheel_task on the target's compute."""
    from databricks.sdk.service import compute, jobs

    target = sub.target
    wheel_task = jobs.PythonWheelTask(
        package_name="lakectl",
        entry_point="lakectl-job",
        parameters=[
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
            *(["--verbose"] if sub.verbose else []),
        ],
    )
    # The workspace's own bound is a backstop (a --no-wait run, a watcher that died); a watching lakectl
    # cancels at its own deadline first, so it can say why.
    timeout = int(sub.timeout_s) + (REMOTE_TIMEOUT_MARGIN_S if sub.wait else 0)
    task = jobs.SubmitTask(task_key=TASK_KEY, python_wheel_task=wheel_task, timeout_seconds=timeout)
    request: dict[str, Any] = {
        "run_name": f"lakectl {sub.settings.project} {sub.job} {sub.run_id}",
        "idempotency_token": f"lakectl-{sub.settings.project}-{sub.run_id}"[:64],
        "timeout_seconds": timeout,
    }
    tags = {"lakectl_project": sub.settings.project, "lakectl_run_id": sub.run_id, "lakectl_job": sub.job}
    if target.serverless:
        task.environment_key = "lakectl"
        request["environments"] = [
            jobs.JobEnvironment(
                environment_key="lakectl",
                spec=compute.Environment(environment_version=target.environment_version, dependencies=[wheel_path]),
            )
        ]
    elif target.cluster_id:
        task.existing_cluster_id = target.cluster_id
        task.libraries = [compute.Library(whl=wheel_path)]
    elif target.spark_version and target.node_type_id:
        task.new_cluster = compute.ClusterSpec(
            spark_version=target.spark_version, node_type_id=target.node_type_id, num_workers=target.num_workers, custom_tags=tags
        )
        task.libraries = [compute.Library(whl=wheel_path)]
    else:
        from lakectl.core.errors import ConfigError

        raise ConfigError(
            f"target {sub.target_name!r} names no compute",
            "set `serverless: true`, `cluster_id`, or `spark_version` + `node_type_id` (see docs/targets.md)",
        )
    request["tasks"] = [task]
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


def outcome(w: WorkspaceClient, target: DatabricksTarget, run: Any) -> Result:
    """The job's Result from its LAKECTL_RESULT line, or the run's failure as an error."""
    from lakectl.runners.jobentry import RESULT_PREFIX

    state = run.state
    result_state = state.result_state.value if state and state.result_state else None
    task_run_id = run.tasks[0].run_id if run.tasks else run.run_id
    with api_errors(target, f"reading the output of run {run.run_id}"):
        out = w.jobs.get_run_output(task_run_id)
    logs = out.logs or ""
    line = next((ln for ln in reversed(logs.splitlines()) if ln.startswith(RESULT_PREFIX)), None)
    where = {"run_id": run.run_id, "run_page_url": run.run_page_url or ""}
    if line is not None:
        doc = json.loads(line[len(RESULT_PREFIX) :])
        if doc.get("status") == "error":
            err = doc.get("error") or {}
            _print_trace(out.error_trace or logs)
            raise RemoteJobError(
                f"{err.get('message', 'the job failed')} (Databricks run {run.run_id}: {run.run_page_url or ''})",
                err.get("hint"),
                int(err.get("exit_code", 1)),
                str(err.get("kind", "error")),
            )
        result = Result.from_dict(doc)
        result.metrics.update(where)
        return result
    if result_state == "CANCELED":
        raise JobFailed(f"Databricks run {run.run_id} was cancelled ({run.run_page_url or ''})")
    if result_state == "TIMEDOUT":
        raise JobFailed(f"Databricks run {run.run_id} timed out ({run.run_page_url or ''})", "raise --timeout or timeout_minutes")
    _print_trace(out.error_trace or logs)
    reason = out.error or (state.state_message if state else None) or f"ended {result_state or 'without a result'}"
    raise JobFailed(
        f"Databricks run {run.run_id} failed: {reason.splitlines()[0][:300]} ({run.run_page_url or ''})", "the run page has the full log"
    )


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
