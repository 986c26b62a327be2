"""`schedules`: recurring jobs for `lakectl deploy`."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, field

from lakectl.core.typed import Struct


class ScheduledTask(Struct):
    """One task of a scheduled job: `lakectl-job JOB --params PARAMS` after the tasks it depends on."""

    job: Annotated[str, Meta(min_length=1)]
    params: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    retries: Annotated[int, Meta(ge=0)] = 0
    timeout_minutes: Annotated[float, Meta(gt=0)] | None = None


class ScheduleNotifications(Struct):
    emails_on_failure: list[str] = field(default_factory=list)
    webhooks_on_failure: list[str] = field(default_factory=list)  # Databricks notification destination ids


class Schedule(Struct):
    """A recurring job (`lakectl deploy`): tasks by key, a unix cron line, limits and notifications."""

    tasks: dict[str, ScheduledTask]
    cron: str | None = None  # 5 fields, e.g. "*/5 * * * *"; none: run on demand only
    timezone: str = "UTC"
    paused: bool = False
    max_concurrent_runs: Annotated[int, Meta(ge=1)] = 1
    timeout_minutes: Annotated[float, Meta(gt=0)] | None = None
    notifications: ScheduleNotifications = field(default_factory=ScheduleNotifications)

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("a schedule needs at least one task")
        for key, task in self.tasks.items():
            unknown = [d for d in task.depends_on if d not in self.tasks]
            if unknown:
                raise ValueError(f"task {key!r} depends on unknown task(s) {unknown}")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"cron {self.cron!r} must have 5 fields: minute hour day-of-month month day-of-week")
