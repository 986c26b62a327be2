"""The Databricks job settings (REST JSON) each schedule should have."""

from __future__ import annotations

import json
from typing import Any

from lakectl.config import DatabricksTarget, Schedule, Settings
from lakectl.core.errors import ConfigError
from lakectl.deploy.cron import task_order, to_quartz
from lakectl.runners.databricks.compute import job_level, job_packages, task_compute

TAG_PROJECT = "lakectl_project"
TAG_SCHEDULE = "lakectl_schedule"


def job_name(settings: Settings, key: str) -> str:
    return f"{settings.project} {key}"


def check_jobs(settings: Settings) -> None:
    from lakectl.jobs import JOBS

    for name, schedule in settings.schedules.items():
        for key, task in schedule.tasks.items():
            if task.job not in JOBS:
                raise ConfigError(
                    f"{settings.source_file}: schedules.{name}.tasks.{key}.job: unknown job {task.job!r}",
                    f"choose one of: {', '.join(sorted(JOBS))}",
                )


def desired(settings: Settings, target_name: str, target: DatabricksTarget, wheel: str, config: str) -> dict[str, dict[str, Any]]:
    check_jobs(settings)
    return {key: job_settings(settings, key, schedule, target_name, target, wheel, config) for key, schedule in settings.schedules.items()}


def job_settings(
    settings: Settings, key: str, schedule: Schedule, target_name: str, target: DatabricksTarget, wheel: str, config: str
) -> dict[str, Any]:
    tags = {TAG_PROJECT: settings.project, TAG_SCHEDULE: key}
    packages = job_packages(settings, [t.job for t in schedule.tasks.values()])
    job: dict[str, Any] = {"name": job_name(settings, key), "tags": tags, "max_concurrent_runs": schedule.max_concurrent_runs}
    tasks = []
    for task_key in task_order(schedule, key):
        task = schedule.tasks[task_key]
        out: dict[str, Any] = {
            "task_key": task_key,
            "python_wheel_task": {
                "package_name": "lakectl",
                "entry_point": "lakectl-job",
                "parameters": [
                    task.job,
                    "--params",
                    json.dumps(task.params, sort_keys=True),
                    "--config",
                    config,
                    "--target",
                    target_name,
                    "--on-cluster",
                ],
            },
        }
        if task.depends_on:
            out["depends_on"] = [{"task_key": d} for d in task.depends_on]
        if task.retries:
            out["max_retries"] = task.retries
        if task.timeout_minutes:
            out["timeout_seconds"] = int(task.timeout_minutes * 60)
        out.update(task_compute(target, target_name, wheel, packages, tags))
        tasks.append(out)
    job["tasks"] = tasks
    job.update(job_level(target, wheel, packages))
    if schedule.cron:
        job["schedule"] = {
            "quartz_cron_expression": to_quartz(schedule.cron),
            "timezone_id": schedule.timezone,
            "pause_status": "PAUSED" if schedule.paused else "UNPAUSED",
        }
    if schedule.timeout_minutes:
        job["timeout_seconds"] = int(schedule.timeout_minutes * 60)
    if schedule.notifications.emails_on_failure:
        job["email_notifications"] = {"on_failure": list(schedule.notifications.emails_on_failure)}
    if schedule.notifications.webhooks_on_failure:
        job["webhook_notifications"] = {"on_failure": [{"id": i} for i in schedule.notifications.webhooks_on_failure]}
    return job
