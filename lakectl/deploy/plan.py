"""The deploy plan: desired job settings against what is deployed, as create / update / unchanged / delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakectl.deploy.managed import changed_fields


@dataclass
class Change:
    action: str  # create | update | unchanged | delete
    schedule: str
    name: str
    job_id: int | None = None
    fields: list[str] = field(default_factory=list)  # top-level settings that differ (update)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "schedule": self.schedule, "name": self.name, "job_id": self.job_id, "fields": self.fields}


def diff(desired: dict[str, dict[str, Any]], deployed: dict[str, tuple[int, dict[str, Any]]]) -> list[Change]:
    """`desired`: schedule -> job settings; `deployed`: schedule -> (job_id, settings) of lakectl's own jobs."""
    changes = []
    for key, want in desired.items():
        if key not in deployed:
            changes.append(Change("create", key, want["name"]))
            continue
        job_id, have = deployed[key]
        fields = changed_fields(want, have)
        changes.append(Change("update" if fields else "unchanged", key, want["name"], job_id, fields))
    for key, (job_id, have) in sorted(deployed.items()):
        if key not in desired:
            changes.append(Change("delete", key, have.get("name", ""), job_id))
    return changes


def summary(changes: list[Change]) -> dict[str, int]:
    counts = {"create": 0, "update": 0, "unchanged": 0, "delete": 0}
    for c in changes:
        counts[c.action] += 1
    return counts
