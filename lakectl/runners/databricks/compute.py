"""Where a task runs and what its environment holds, as REST JSON shared by one-time runs (`jobs.submit`)
and deployed jobs (`jobs.create`): serverless, an existing cluster or a new job cluster; the wheel and the
packages the job needs beyond it; the job's environment variables.

Environment variables (`env:` in the target) travel as the platform's own: `spark_env_vars` on a new job
cluster, a job-level `environment_variables` entry that the task selects (`environment_variables_key`) on
serverless. A `{{secrets/scope/key}}` value is a reference, never the secret: a cluster resolves it when it
starts, and lakectl-job resolves what is still a reference when it starts (runners/secret_refs.py).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from lakectl.config import DatabricksTarget, Settings
from lakectl.core.errors import ConfigError

ENVIRONMENT_KEY = "lakectl"
ENV_VARS_KEY = "lakectl"
# Jobs that need lakectl's optional extras on the cluster (the wheel itself declares only the base ones).
_EXTRAS = {"train": ("ml",), "score": ("ml",), "model": ("ml",), "monitor": ("ml",)}


def job_packages(settings: Settings, jobs: list[str]) -> list[str]:
    """Requirement lines the jobs need beyond the wheel: MLflow for the model jobs, the encoder's packages
    when `ml.featurizer` is encoder (they embed reviews). Read from lakectl's own metadata."""
    extras: set[str] = set()
    for job in jobs:
        extras.update(_EXTRAS.get(job, ()))
    if {"train", "score"} & set(jobs) and settings.ml.featurizer == "encoder":
        extras.add("encoder")
    return extra_requirements(sorted(extras))


def extra_requirements(extras: list[str]) -> list[str]:
    try:
        declared = metadata.requires("lakectl") or []
    except metadata.PackageNotFoundError:
        return []
    out: list[str] = []
    for extra in extras:
        for req in declared:
            name, _, marker = req.partition(";")
            if marker.replace('"', "'").replace(" ", "") == f"extra=='{extra}'" and name.strip() not in out:
                out.append(name.strip())
    return out


def task_compute(target: DatabricksTarget, target_name: str, wheel: str, packages: list[str], tags: dict[str, str]) -> dict[str, Any]:
    """The task's compute keys: environment_key, existing_cluster_id, or new_cluster, with its libraries."""
    if target.serverless:
        out: dict[str, Any] = {"environment_key": ENVIRONMENT_KEY}
        if target.env:
            out["environment_variables_key"] = ENV_VARS_KEY
        return out
    libraries: list[dict[str, Any]] = [{"whl": wheel}, *({"pypi": {"package": p}} for p in packages)]
    if target.cluster_id:
        return {"existing_cluster_id": target.cluster_id, "libraries": libraries}
    if target.spark_version and target.node_type_id:
        cluster: dict[str, Any] = {
            "spark_version": target.spark_version,
            "node_type_id": target.node_type_id,
            "num_workers": target.num_workers,
            "custom_tags": tags,
            "data_security_mode": target.data_security_mode,
        }
        if target.policy_id:
            cluster["policy_id"] = target.policy_id
            cluster["apply_policy_default_values"] = True  # what the policy fixes or defaults, it fills in
        if target.env:
            cluster["spark_env_vars"] = dict(target.env)
        return {"new_cluster": cluster, "libraries": libraries}
    raise ConfigError(
        f"target {target_name!r} names no compute",
        "set `serverless: true`, `cluster_id`, or `spark_version` + `node_type_id` (see docs/targets.md)",
    )


def job_level(target: DatabricksTarget, wheel: str, packages: list[str]) -> dict[str, Any]:
    """The job-level keys serverless tasks refer to: the environment (the wheel and the packages as its
    dependencies) and the environment variables entry."""
    if not target.serverless:
        return {}
    out: dict[str, Any] = {
        "environments": [
            {
                "environment_key": ENVIRONMENT_KEY,
                "spec": {"environment_version": target.environment_version, "dependencies": [wheel, *packages]},
            }
        ]
    }
    if target.env:
        out["environment_variables"] = [{"environment_variables_key": ENV_VARS_KEY, "spec": {"variables": dict(target.env)}}]
    return out
