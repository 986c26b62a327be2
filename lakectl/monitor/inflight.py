"""A marker per run in progress, so a run killed before it could record its result (kill -9, the
OOM killer, a lost machine) still reaches ops.runs, as `interrupted`, instead of vanishing.

`<checkpoints>/_runs/<run_id>.json` holds the run's row as it would be recorded on failure and an
flock held for the run's lifetime. The OS drops that lock when its holder dies, so the next recorded
run finds a marker it can lock, appends its row, and deletes it. Local storage roots only."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

KILLED = "the process ended before recording its result (killed: kill -9, out of memory or a lost machine)"


class Marker:
    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    def release(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)


def runs_dir(checkpoints_dir: Path) -> Path:
    return checkpoints_dir / "_runs"


def mark(directory: Path, run_id: str, row: dict[str, Any]) -> Marker:
    """Create and lock this run's marker; it holds the row to record if the process dies."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{run_id}.json"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, json.dumps(row, default=_iso).encode())
    return Marker(path, fd)


def sweep(directory: Path, record: Callable[[list[dict[str, Any]]], None]) -> int:
    """Record every marker whose holder is gone as an interrupted run; return how many."""
    if not directory.is_dir():
        return 0
    orphans: list[tuple[Path, int, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue  # its run just finished
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # still running
            continue
        try:
            row = json.loads(path.read_text() or "{}")
        except (OSError, ValueError):
            row = {}
        if row.get("run_id"):
            orphans.append((path, fd, row))
        else:  # killed between creating and writing it: nothing to record
            path.unlink(missing_ok=True)
            os.close(fd)
    if not orphans:
        return 0
    try:
        record([_as_interrupted(row) for _, _, row in orphans])
        for path, _, _ in orphans:
            path.unlink(missing_ok=True)
    finally:
        for _, fd, _ in orphans:
            os.close(fd)
    return len(orphans)


def _as_interrupted(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("started_at", "ended_at"):
        if isinstance(out.get(key), str):
            out[key] = datetime.fromisoformat(out[key])
    out.update(status="interrupted", error=KILLED, ended_at=None, duration_s=None)
    return out


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
