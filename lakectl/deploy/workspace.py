"""Deploy against a workspace: find lakectl's own jobs by tag, plan, apply or destroy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakectl.config import DatabricksTarget, Settings
from lakectl.deploy.plan import Change, diff
from lakectl.deploy.spec import TAG_PROJECT, TAG_SCHEDULE, desired

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


@dataclass
class Outcome:
    changes: list[Change]
    config: str  # create | update | unchanged | delete: the deployed config file
    uploaded: list[str] = field(default_factory=list)


def deployed(w: WorkspaceClient, project: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """schedule -> (job_id, settings) of the jobs tagged as this project's; never anyone else's."""
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for job in w.jobs.list(expand_tasks=True, limit=100):
        settings = job.settings.as_dict() if job.settings else {}
        tags = settings.get("tags") or {}
        if tags.get(TAG_PROJECT) != project or not tags.get(TAG_SCHEDULE) or job.job_id is None:
            continue
        key = tags[TAG_SCHEDULE]
        if key in found:  # a duplicate (e.g. a deploy interrupted mid-way): plan its deletion
            key = f"{key}#{job.job_id}"
        found[key] = (job.job_id, settings)
    return found


def config_path(w: WorkspaceClient, target: DatabricksTarget, settings: Settings) -> str:
    """One stable config per project for its jobs: a config change updates that file, not every job."""
    from lakectl.runners.databricks.artifacts import artifact_dir

    return f"{artifact_dir(w, target)}/lakectl-deploy-{settings.project}.yaml"


def plan_and_apply(settings: Settings, target_name: str, target: DatabricksTarget, *, dry_run: bool, destroy: bool) -> Outcome:
    from lakectl.engine.workspace import api_errors, workspace_client
    from lakectl.runners.databricks import artifacts
    from lakectl.runners.databricks.wheel import build_wheel

    w = workspace_client(target)
    wanted: dict[str, dict[str, Any]] = {}
    with api_errors(target, "reading the deployed jobs"):
        current = deployed(w, settings.project)
        config = config_path(w, target, settings)
        remote_config = artifacts.read(w, config)
        if destroy:
            config_action = "delete" if remote_config is not None else "unchanged"
        else:
            wheel = build_wheel()
            wheel_path = artifacts.planned(w, target, settings, wheel).wheel
            local_config = artifacts.config_bytes(settings, target)
            config_action = "create" if remote_config is None else "unchanged" if remote_config == local_config else "update"
            wanted = desired(settings, target_name, target, wheel_path, config)
    changes = diff(wanted, current)
    outcome = Outcome(changes, config_action)
    if dry_run:
        return outcome
    if not destroy:
        with api_errors(target, "uploading lakectl's wheel and config"):
            if any(c.action in ("create", "update") for c in changes) and artifacts.ensure(w, wheel_path, wheel.read_bytes()):
                outcome.uploaded.append(wheel_path)
            if config_action != "unchanged":
                artifacts.write(w, config, local_config)
                outcome.uploaded.append(config)
    from databricks.sdk.service import jobs

    for change in changes:
        with api_errors(target, f"{change.action[:-1]}ing job {change.name!r}"):
            if change.action == "create":
                spec = jobs.JobSettings.from_dict(wanted[change.schedule])
                change.job_id = w.jobs.create(**{k: getattr(spec, k) for k in wanted[change.schedule]}).job_id
            elif change.action == "update":
                assert change.job_id is not None
                w.jobs.reset(change.job_id, new_settings=jobs.JobSettings.from_dict(wanted[change.schedule]))
            elif change.action == "delete":
                assert change.job_id is not None
                w.jobs.delete(change.job_id)
    if destroy and config_action == "delete":
        with api_errors(target, "deleting the deployed config"):
            artifacts.delete(w, config)
    return outcome
