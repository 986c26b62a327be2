"""Cron lines: unix 5-field (what the config says and crontab runs) to Quartz (what Databricks wants)."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

from lakectl.config import Schedule, Settings
from lakectl.core.errors import ConfigError

_DOW_NAMES = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}


def to_quartz(cron: str) -> str:
    """'*/5 * * * *' -> '0 */5 * * * ?': seconds first; one of day-of-month / day-of-week is '?';
    unix day-of-week 0-6 (Sunday 0 or 7) becomes Quartz 1-7 (Sunday 1)."""
    minute, hour, dom, month, dow = cron.split()
    if dow != "*":
        dow = _quartz_dow(dow)
        dom = "?" if dom == "*" else dom
        if dom != "?":
            raise ConfigError(
                f"cron {cron!r}: Databricks (Quartz) cannot combine a day of month with a day of week", "set one of them to *"
            )
    else:
        dow = "?"
    return f"0 {minute} {hour} {dom} {month} {dow}"


def _quartz_dow(field: str) -> str:
    out = []
    for part in field.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        ends = part.split("-")
        mapped = []
        for end in ends:
            if end.isdigit():
                mapped.append(str(int(end) % 7 + 1))
            elif end.upper()[:3] in _DOW_NAMES or end == "*":
                mapped.append(end.upper())
            else:
                raise ConfigError(f"cron day-of-week {field!r} is not understood", "use 0-6 or SUN-SAT")
        out.append("-".join(mapped) + step)
    return ",".join(out)


def task_order(schedule: Schedule, name: str) -> list[str]:
    """Task keys in an order that respects depends_on (a cycle is a config error)."""
    done: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in done:
            return
        if key in visiting:
            raise ConfigError(f"schedules.{name}: tasks depend on each other in a cycle (at {key!r})")
        visiting.add(key)
        for dep in schedule.tasks[key].depends_on:
            visit(dep)
        visiting.discard(key)
        done.append(key)

    for key in schedule.tasks:
        visit(key)
    return done


def crontab_lines(settings: Settings, target_name: str) -> list[str]:
    """One crontab line per scheduled job: its tasks in dependency order, each with its timeout."""
    config = str(Path(settings.source_file).absolute()) if settings.source_file and not settings.source_file.startswith("<") else None
    runner = shutil.which("lakectl-job")
    base = [runner] if runner else [sys.executable, "-m", "lakectl.runners.jobentry"]
    lines = []
    log_dir = settings.storage.root_dir / "logs"
    for name, schedule in settings.schedules.items():
        if not schedule.cron:
            lines.append(f"# {name}: no cron, not scheduled")
            continue
        steps = []
        for key in task_order(schedule, name):
            task = schedule.tasks[key]
            argv = [*base, task.job, "--params", json.dumps(task.params, sort_keys=True), "--target", target_name]
            if config:
                argv += ["--config", config]
            cmd = " ".join(shlex.quote(a) for a in argv)
            if task.timeout_minutes:
                cmd = f"timeout {int(task.timeout_minutes * 60)} {cmd}"
            steps.append(cmd)
        prefix = "# (paused) " if schedule.paused else ""
        log = shlex.quote(str(log_dir / f"cron-{name}.log"))
        tz = f"CRON_TZ={schedule.timezone} " if schedule.timezone != "UTC" else ""
        lines.append(f"{prefix}{tz}{schedule.cron} cd {shlex.quote(str(Path.cwd()))} && ( {' && '.join(steps)} ) >> {log} 2>&1")
    return lines
