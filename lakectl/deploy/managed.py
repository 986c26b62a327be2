"""The part of a job's settings lakectl manages, normalised so that what it sends and what the Jobs service
returns compare equal when nothing changed.

The service answers `jobs/get` and `jobs/list` with defaults lakectl never sent (`timeout_seconds: 0`,
`email_notifications: {no_alert_for_skipped_runs: false}`, `run_if`, `format`, `run_as`, `queue`, ...) and
may list `tasks` and `depends_on` in another order than submitted (the Terraform provider sorts tasks by
`task_key` for this reason). Both sides therefore go through `normalise`: fields lakectl does not manage are
dropped, a value equal to the service's default counts as unset, and lists of keyed objects are sorted by key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Leaf:
    """A value compared as it is; `default` is what the service reports when it was not sent."""

    default: Any = None


@dataclass(frozen=True)
class Keyed:
    """A list of objects identified by `key`, whose order means nothing."""

    key: str
    item: dict[str, Any]


@dataclass(frozen=True)
class Bag:
    """A list of values whose order means nothing (libraries)."""


_ = Leaf()
CLUSTER = {
    "spark_version": _,
    "node_type_id": _,
    "num_workers": Leaf(0),
    "custom_tags": _,
    "data_security_mode": _,
    "policy_id": _,
    "apply_policy_default_values": Leaf(False),
    "spark_env_vars": _,
}
TASK = {
    "task_key": _,
    "python_wheel_task": {"package_name": _, "entry_point": _, "parameters": _},
    "depends_on": Keyed("task_key", {"task_key": _, "outcome": _}),
    "max_retries": Leaf(0),
    "timeout_seconds": Leaf(0),
    "environment_key": _,
    "environment_variables_key": _,
    "existing_cluster_id": _,
    "new_cluster": CLUSTER,
    "libraries": Bag(),
}
JOB = {
    "name": _,
    "tags": _,
    "tasks": Keyed("task_key", TASK),
    "schedule": {"quartz_cron_expression": _, "timezone_id": _, "pause_status": Leaf("UNPAUSED")},
    "max_concurrent_runs": Leaf(1),
    "email_notifications": {"on_failure": _},
    "webhook_notifications": {"on_failure": Keyed("id", {"id": _})},
    "environments": Keyed("environment_key", {"environment_key": _, "spec": {"environment_version": _, "dependencies": _}}),
    "environment_variables": Keyed("environment_variables_key", {"environment_variables_key": _, "spec": {"variables": _}}),
    "timeout_seconds": Leaf(0),
}
MANAGED = tuple(JOB)  # the top-level settings: one lakectl no longer sets but the deployed job has is a change


def normalise(settings: dict[str, Any]) -> dict[str, Any]:
    """The managed part of job settings (REST JSON), comparable with ==."""
    return _object(settings, JOB)


def changed_fields(want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """Top-level managed settings whose normalised values differ."""
    a, b = normalise(want), normalise(have)
    return [k for k in MANAGED if a.get(k) != b.get(k)]


def _object(value: Any, spec: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, sub in spec.items():
        if key in value:
            v = _value(value[key], sub)
            if not _unset(v, sub):
                out[key] = v
    return out


def _value(value: Any, spec: Any) -> Any:
    if isinstance(spec, dict):
        return _object(value, spec)
    if isinstance(spec, Keyed):
        items = [_object(v, spec.item) for v in value or []]
        return sorted(items, key=lambda i: str(i.get(spec.key)))
    if isinstance(spec, Bag):
        return sorted(value or [], key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _unset(value: Any, spec: Any) -> bool:
    if value is None or value == {} or value == []:
        return True
    return isinstance(spec, Leaf) and spec.default is not None and value == spec.default
