"""`lakectl deploy --bundle DIR`: the same `schedules:` as a Databricks Asset Bundle, for teams that deploy
with `databricks bundle deploy`. The jobs are the settings `lakectl deploy` sends (deploy/spec.py), passed
through the `databricks-bundles` package's own Job resource (an unknown or misspelt field fails here, not in
the workspace) and written as the bundle's YAML. The wheel and the job's config travel inside the bundle
(`dist/`): the bundle CLI uploads the wheel it finds at a relative library path, and syncs the config
to `${workspace.file_path}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakectl.config import DatabricksTarget, Settings
from lakectl.core.errors import EnvironmentProblem
from lakectl.deploy.spec import check_jobs, job_settings

RESOURCES = "resources/lakectl_jobs.yml"


@dataclass
class Bundle:
    directory: Path
    jobs: dict[str, dict[str, Any]]  # resource key -> job settings, as the bundle holds them
    files: dict[str, bytes]  # relative path -> content


def bundle_for(settings: Settings, target_name: str, target: DatabricksTarget, wheel: Path, directory: Path) -> Bundle:
    """The bundle's files for the config's schedules; nothing is written."""
    import yaml

    from lakectl.runners.databricks.artifacts import config_bytes

    check_jobs(settings)
    config_name = f"lakectl-deploy-{settings.project}.yaml"
    wheel_ref = f"./dist/{wheel.name}"
    config_ref = f"${{workspace.file_path}}/dist/{config_name}"
    jobs = {
        _resource_key(key): _through_bundles(job_settings(settings, key, schedule, target_name, target, wheel_ref, config_ref))
        for key, schedule in settings.schedules.items()
    }
    bundle_target: dict[str, Any] = {"default": True}
    if target.host:
        bundle_target["workspace"] = {"host": target.host}
    if target.profile:
        bundle_target.setdefault("workspace", {})["profile"] = target.profile
    manifest = {
        "bundle": {"name": f"lakectl-{settings.project}"},
        "include": [RESOURCES],
        "targets": {target_name: bundle_target},
    }
    files = {
        "databricks.yml": yaml.safe_dump(manifest, sort_keys=False).encode(),
        RESOURCES: yaml.safe_dump({"resources": {"jobs": jobs}}, sort_keys=False).encode(),
        f"dist/{wheel.name}": wheel.read_bytes(),
        f"dist/{config_name}": config_bytes(settings, target),
    }
    return Bundle(directory, jobs, files)


def write(bundle: Bundle) -> list[str]:
    """Write the bundle's files (a previous lakectl wheel in dist/ is replaced); the paths written."""
    dist = bundle.directory / "dist"
    if dist.is_dir():
        for old in dist.glob("lakectl-*.whl"):
            old.unlink()
    for rel, data in bundle.files.items():
        path = bundle.directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(bundle.files)


def load_jobs(directory: Path) -> dict[str, dict[str, Any]]:
    """The jobs of a bundle written by lakectl, loaded through databricks-bundles' Job resource."""
    import yaml

    jobs = yaml.safe_load((directory / RESOURCES).read_text())["resources"]["jobs"]
    return {key: _through_bundles(job) for key, job in jobs.items()}


def _through_bundles(job: dict[str, Any]) -> dict[str, Any]:
    try:
        from databricks.bundles.jobs import Job
    except ImportError as exc:
        raise EnvironmentProblem("databricks-bundles is not installed", "pip install 'lakectl[databricks]'") from exc
    return Job.from_dict(job).as_dict()  # type: ignore[arg-type]


def _resource_key(schedule: str) -> str:
    """A bundle resource key: letters, digits and _ (a schedule's name may hold - or .)."""
    return "lakectl_" + "".join(c if c.isalnum() else "_" for c in schedule)
