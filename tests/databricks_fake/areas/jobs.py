"""Jobs 2.2: one-time runs (submit / get / get-output / cancel) executed for real, and job CRUD."""

from __future__ import annotations

import copy
import itertools
import re
import time
from typing import Any

from tests.databricks_fake.routes import ApiError, Request, Shape, bad_request, route

# --- the documented request shapes ---------------------------------------------------------------

WHEEL_TASK = Shape(required={"package_name", "entry_point"}, optional={"parameters", "named_parameters"})
LIBRARY = Shape(optional={"whl", "jar", "pypi", "maven", "requirements", "cran", "egg"})
ENV_SPEC = Shape(optional={"client", "environment_version", "dependencies", "java_dependencies", "base_environment"})
ENVIRONMENT = Shape(required={"environment_key"}, optional={"spec"}, nested={"spec": ENV_SPEC})
ENV_VARIABLES = Shape(
    required={"environment_variables_key"},
    optional={"spec"},
    nested={"spec": Shape(optional={"variables", "files"})},
)
CLUSTER_SPEC = Shape(
    optional={
        "spark_version",
        "node_type_id",
        "driver_node_type_id",
        "num_workers",
        "autoscale",
        "custom_tags",
        "spark_conf",
        "spark_env_vars",
        "data_security_mode",
        "single_user_name",
        "instance_pool_id",
        "driver_instance_pool_id",
        "policy_id",
        "apply_policy_default_values",
        "runtime_engine",
        "kind",
        "is_single_node",
        "use_ml_runtime",
        "aws_attributes",
        "azure_attributes",
        "gcp_attributes",
        "cluster_name",
        "init_scripts",
        "cluster_log_conf",
        "enable_elastic_disk",
        "enable_local_disk_encryption",
        "ssh_public_keys",
        "autotermination_minutes",
        "docker_image",
        "workload_type",
        "total_initial_remote_disk_size",
        "remote_disk_throughput",
    }
)
DEPENDENCY = Shape(required={"task_key"}, optional={"outcome"})
NOTIFICATIONS = Shape(
    optional={
        "on_start",
        "on_success",
        "on_failure",
        "on_duration_warning_threshold_exceeded",
        "on_streaming_backlog_exceeded",
        "no_alert_for_skipped_runs",
    }
)
_TASK_COMMON = {
    "task_key",
    "description",
    "depends_on",
    "run_if",
    "python_wheel_task",
    "notebook_task",
    "spark_python_task",
    "spark_jar_task",
    "sql_task",
    "environment_key",
    "environment_variables_key",
    "existing_cluster_id",
    "new_cluster",
    "libraries",
    "timeout_seconds",
    "email_notifications",
    "webhook_notifications",
    "notification_settings",
    "health",
    "disable_auto_optimization",
    "run_as",
}
_TASK_NESTED = {
    "python_wheel_task": WHEEL_TASK,
    "libraries": LIBRARY,
    "new_cluster": CLUSTER_SPEC,
    "depends_on": DEPENDENCY,
    "email_notifications": NOTIFICATIONS,
}
SUBMIT_TASK = Shape(required={"task_key"}, optional=_TASK_COMMON - {"task_key"}, nested=_TASK_NESTED)
JOB_TASK = Shape(
    required={"task_key"},
    optional=(_TASK_COMMON - {"task_key"}) | {"job_cluster_key", "max_retries", "min_retry_interval_millis", "retry_on_timeout"},
    nested=_TASK_NESTED,
)
SUBMIT = Shape(
    required={"tasks"},
    optional={
        "access_control_list",
        "budget_policy_id",
        "duration_target",
        "email_notifications",
        "environment_variables",
        "environments",
        "git_source",
        "health",
        "idempotency_token",
        "notification_settings",
        "performance_target",
        "queue",
        "run_as",
        "run_name",
        "timeout_seconds",
        "usage_policy_id",
        "webhook_notifications",
    },
    nested={
        "tasks": SUBMIT_TASK,
        "environments": ENVIRONMENT,
        "environment_variables": ENV_VARIABLES,
        "email_notifications": NOTIFICATIONS,
    },
)
SCHEDULE = Shape(required={"quartz_cron_expression", "timezone_id"}, optional={"pause_status"})
JOB_SETTINGS = Shape(
    optional={
        "name",
        "description",
        "tasks",
        "schedule",
        "continuous",
        "trigger",
        "tags",
        "max_concurrent_runs",
        "email_notifications",
        "webhook_notifications",
        "notification_settings",
        "timeout_seconds",
        "environments",
        "environment_variables",
        "job_clusters",
        "parameters",
        "queue",
        "run_as",
        "health",
        "format",
        "git_source",
        "edit_mode",
        "deployment",
        "budget_policy_id",
        "performance_target",
        "usage_policy_id",
        "access_control_list",
    },
    nested={
        "tasks": JOB_TASK,
        "environments": ENVIRONMENT,
        "environment_variables": ENV_VARIABLES,
        "schedule": SCHEDULE,
        "email_notifications": NOTIFICATIONS,
    },
)
TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
_ids = itertools.count(1001)


def _jobs_state(req: Request) -> dict[str, Any]:
    assert req.fake is not None
    state = req.fake.area("jobs")
    state.setdefault("runs", {})
    state.setdefault("task_runs", {})
    state.setdefault("tokens", {})
    state.setdefault("jobs", {})
    return state


def _int_param(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer, got {value!r}") from None


# --- one-time runs -------------------------------------------------------------------------------


@route("POST", r"/api/2\.2/jobs/runs/submit")
def submit(req: Request):
    SUBMIT.check(req.body, "runs/submit")
    body = req.body
    token = body.get("idempotency_token")
    if token is not None and len(token) > 64:
        raise bad_request("idempotency_token must have at most 64 characters")
    envs = {e["environment_key"]: e for e in body.get("environments", [])}
    entries = {e["environment_variables_key"]: e for e in body.get("environment_variables", [])}
    if len(body["tasks"]) > 100:
        raise bad_request("a run has at most 100 tasks")
    for task in body["tasks"]:
        _check_task_compute(task, envs)
        _check_env_variables(task, entries, envs)
    assert req.fake is not None
    with req.fake.lock:
        state = _jobs_state(req)
        if token is not None and token in state["tokens"]:
            return 200, {"run_id": state["tokens"][token]}
        run_id = next(_ids)
        task = body["tasks"][0]
        run = {
            "run_id": run_id,
            "run_name": body.get("run_name", "Untitled"),
            "body": body,
            "life_cycle_state": "PENDING",
            "result_state": None,
            "state_message": "Waiting for cluster",
            "task_key": task["task_key"],
            "task_run_id": next(_ids),
            "start_time": int(time.time() * 1000),
            "end_time": 0,
            "logs": "",
            "error": None,
            "error_trace": None,
            "process": None,
            "cancelled": False,
        }
        state["runs"][run_id] = run
        state["task_runs"][run["task_run_id"]] = run_id
        if token is not None:
            state["tokens"][token] = run_id
    from tests.databricks_fake import executor

    executor.start(req.fake, run)
    return 200, {"run_id": run_id}


def _check_env_variables(task: dict[str, Any], entries: dict[str, Any], envs: dict[str, Any]) -> None:
    """environment_variables_key names a job-level entry, on serverless tasks of environment version 5 or later."""
    key = task.get("environment_variables_key")
    if key is None:
        return
    where = f"task {task['task_key']!r}"
    if key not in entries:
        raise bad_request(f"{where}: environment_variables_key {key!r} is not in environment_variables")
    env = envs.get(task.get("environment_key") or "")
    version = str((env or {}).get("spec", {}).get("environment_version", "0"))
    if env is None or not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 5:
        raise bad_request(f"{where}: environment variables need a serverless task on environment version 5 or later")
    for name in (entries[key].get("spec") or {}).get("variables") or {}:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise bad_request(f"{where}: environment variable name {name!r} is not valid")


def _check_task_compute(task: dict[str, Any], envs: dict[str, Any]) -> None:
    where = f"task {task['task_key']!r}"
    compute = [k for k in ("environment_key", "existing_cluster_id", "new_cluster", "job_cluster_key") if task.get(k)]
    if len(compute) != 1:
        raise bad_request(f"{where}: set exactly one of environment_key, existing_cluster_id, new_cluster (got {compute or 'none'})")
    if task.get("new_cluster"):
        missing = {"spark_version"} - set(task["new_cluster"])
        if missing:
            raise bad_request(f"{where}: new_cluster needs spark_version")
    wheel_task = task.get("python_wheel_task")
    if wheel_task is None:
        raise bad_request(f"{where}: this fake runs python_wheel_task only")
    if task.get("environment_key"):
        if task["environment_key"] not in envs:
            raise bad_request(f"{where}: environment_key {task['environment_key']!r} is not in environments")
        if task.get("libraries"):
            raise bad_request(f"{where}: libraries are not supported on serverless compute; use the environment's dependencies")
        if not envs[task["environment_key"]].get("spec", {}).get("environment_version") and not envs[task["environment_key"]].get(
            "spec", {}
        ).get("client"):
            raise bad_request(f"{where}: the environment spec needs environment_version")


def _run_view(run: dict[str, Any], fake) -> dict[str, Any]:
    state = {
        "life_cycle_state": run["life_cycle_state"],
        "state_message": run["state_message"],
        "user_cancelled_or_timedout": run["cancelled"],
    }
    if run["result_state"]:
        state["result_state"] = run["result_state"]
    url = f"{fake.url}/?o=0#job/runs/{run['run_id']}"
    return {
        "run_id": run["run_id"],
        "run_name": run["run_name"],
        "run_type": "SUBMIT_RUN",
        "state": state,
        "start_time": run["start_time"],
        "end_time": run["end_time"],
        "run_page_url": url,
        "creator_user_name": fake.user_name,
        "number_in_job": run["run_id"],
        "tasks": [
            {
                "run_id": run["task_run_id"],
                "task_key": run["task_key"],
                "state": state,
                "start_time": run["start_time"],
                "end_time": run["end_time"],
                "run_page_url": url,
            }
        ],
    }


def _run(req: Request, run_id: int) -> dict[str, Any]:
    state = _jobs_state(req)
    if run_id not in state["runs"]:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")
    return state["runs"][run_id]


@route("GET", r"/api/2\.2/jobs/runs/get")
def get_run(req: Request):
    unknown = set(req.query) - {"run_id", "include_history", "include_resolved_values", "page_token"}
    if unknown:
        raise bad_request(f"runs/get: unknown query parameter(s) {sorted(unknown)}")
    run_id = _int_param(req.query.get("run_id"), "run_id")
    assert req.fake is not None
    with req.fake.lock:
        return 200, _run_view(_run(req, run_id), req.fake)


@route("GET", r"/api/2\.2/jobs/runs/get-output")
def get_output(req: Request):
    task_run_id = _int_param(req.query.get("run_id"), "run_id")
    assert req.fake is not None
    with req.fake.lock:
        state = _jobs_state(req)
        if task_run_id in state["runs"]:
            raise bad_request(
                "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the "
                "output of each individual task run instead."
            )
        if task_run_id not in state["task_runs"]:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {task_run_id} does not exist.")
        run = state["runs"][state["task_runs"][task_run_id]]
        logs = run["logs"][-5 * 1024 * 1024 :]
        out: dict[str, Any] = {"logs": logs, "logs_truncated": len(run["logs"]) > len(logs), "metadata": _run_view(run, req.fake)}
        if run["error"]:
            out["error"] = run["error"]
        if run["error_trace"]:
            out["error_trace"] = run["error_trace"]
        return 200, out


@route("POST", r"/api/2\.2/jobs/runs/cancel")
def cancel(req: Request):
    Shape(required={"run_id"}).check(req.body, "runs/cancel")
    assert req.fake is not None
    with req.fake.lock:
        run = _run(req, _int_param(req.body["run_id"], "run_id"))
    from tests.databricks_fake import executor

    executor.cancel(req.fake, run)
    return 200, {}


def stop_all(fake) -> None:
    """Kill every job process still running (the server is stopping)."""
    from tests.databricks_fake import executor

    for run in list(fake.area("jobs").get("runs", {}).values()):
        if run["life_cycle_state"] not in TERMINAL:
            executor.cancel(fake, run)


# --- jobs ------------------------------------------------------------------------------------------


def _check_settings(settings: Any, where: str) -> None:
    JOB_SETTINGS.check(settings, where)
    tags = settings.get("tags") or {}
    if len(tags) > 25:
        raise bad_request(f"{where}: a job has at most 25 tags")
    envs = {e["environment_key"]: e for e in settings.get("environments", [])}
    entries = {e["environment_variables_key"]: e for e in settings.get("environment_variables", [])}
    keys = [t["task_key"] for t in settings.get("tasks", [])]
    if len(set(keys)) != len(keys):
        raise bad_request(f"{where}: task keys must be unique")
    for task in settings.get("tasks", []):
        _check_task_compute(task, envs)
        _check_env_variables(task, entries, envs)
        for dep in task.get("depends_on", []):
            if dep["task_key"] not in keys:
                raise bad_request(f"{where}: task {task['task_key']!r} depends on unknown task {dep['task_key']!r}")


@route("POST", r"/api/2\.2/jobs/create")
def create(req: Request):
    _check_settings(req.body, "jobs/create")
    assert req.fake is not None
    with req.fake.lock:
        job_id = next(_ids)
        _jobs_state(req)["jobs"][job_id] = {
            "job_id": job_id,
            "creator_user_name": req.fake.user_name,
            "created_time": int(time.time() * 1000),
            "settings": req.body,
        }
    return 200, {"job_id": job_id}


def served(settings: dict[str, Any], user_name: str) -> dict[str, Any]:
    """Job settings as jobs/get and jobs/list answer them: with the service's defaults that were never sent
    (seen in real answers: timeout_seconds 0, email_notifications.no_alert_for_skipped_runs, format, run_as,
    queue, run_if...), tasks sorted by task_key and each task's depends_on in reverse key order, so a client
    comparing naively with what it sent finds changes where there are none."""
    out = copy.deepcopy(settings)
    out.setdefault("timeout_seconds", 0)
    out.setdefault("max_concurrent_runs", 1)
    out.setdefault("format", "MULTI_TASK")
    out.setdefault("run_as", {"user_name": user_name})
    out.setdefault("queue", {"enabled": True})
    out.setdefault("webhook_notifications", {})
    out["email_notifications"] = {"no_alert_for_skipped_runs": False, **(out.get("email_notifications") or {})}
    if "schedule" in out:
        out["schedule"].setdefault("pause_status", "UNPAUSED")
    for task in out.get("tasks", []):
        task.setdefault("timeout_seconds", 0)
        task.setdefault("email_notifications", {})
        task.setdefault("webhook_notifications", {})
        task.setdefault("run_if", "ALL_SUCCESS")
        if task.get("depends_on"):
            task["depends_on"] = sorted(task["depends_on"], key=lambda d: d["task_key"], reverse=True)
        if task.get("new_cluster"):
            task["new_cluster"].setdefault("enable_elastic_disk", True)
            task["new_cluster"].setdefault("spark_env_vars", {})
    if out.get("tasks"):
        out["tasks"] = sorted(out["tasks"], key=lambda t: t["task_key"])
    return out


def _job(req: Request, job_id: int) -> dict[str, Any]:
    jobs = _jobs_state(req)["jobs"]
    if job_id not in jobs:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")
    return jobs[job_id]


@route("GET", r"/api/2\.2/jobs/get")
def get(req: Request):
    unknown = set(req.query) - {"job_id", "include_trigger_state", "page_token"}
    if unknown:
        raise bad_request(f"jobs/get: unknown query parameter(s) {sorted(unknown)}")
    assert req.fake is not None
    with req.fake.lock:
        job = _job(req, _int_param(req.query.get("job_id"), "job_id"))
        return 200, {**job, "settings": served(job["settings"], req.fake.user_name)}


@route("GET", r"/api/2\.2/jobs/list")
def list_jobs(req: Request):
    unknown = set(req.query) - {"expand_tasks", "limit", "name", "offset", "page_token"}
    if unknown:
        raise bad_request(f"jobs/list: unknown query parameter(s) {sorted(unknown)}")
    limit = _int_param(req.query.get("limit", "20"), "limit")
    if not 0 < limit <= 100:
        raise bad_request("limit must be between 1 and 100")
    start = _int_param(req.query.get("page_token", "0"), "page_token")
    expand = req.query.get("expand_tasks") == "true"
    name = req.query.get("name")
    assert req.fake is not None
    with req.fake.lock:
        jobs = sorted(_jobs_state(req)["jobs"].values(), key=lambda j: -j["job_id"])
        if name is not None:
            jobs = [j for j in jobs if j["settings"].get("name", "").lower() == name.lower()]
        page = jobs[start : start + limit]
        out = []
        for job in page:
            settings = served(job["settings"], req.fake.user_name)
            if not expand:
                settings.pop("tasks", None)
                settings.pop("job_clusters", None)
            out.append({**job, "settings": settings})
    answer: dict[str, Any] = {"jobs": out, "has_more": start + limit < len(jobs)}
    if answer["has_more"]:
        answer["next_page_token"] = str(start + limit)
    return 200, answer


@route("POST", r"/api/2\.2/jobs/reset")
def reset(req: Request):
    Shape(required={"job_id", "new_settings"}).check(req.body, "jobs/reset")
    _check_settings(req.body["new_settings"], "jobs/reset new_settings")
    assert req.fake is not None
    with req.fake.lock:
        _job(req, _int_param(req.body["job_id"], "job_id"))["settings"] = req.body["new_settings"]
    return 200, {}


@route("POST", r"/api/2\.2/jobs/delete")
def delete(req: Request):
    Shape(required={"job_id"}).check(req.body, "jobs/delete")
    assert req.fake is not None
    with req.fake.lock:
        job_id = _int_param(req.body["job_id"], "job_id")
        _job(req, job_id)
        del _jobs_state(req)["jobs"][job_id]
    return 200, {}
