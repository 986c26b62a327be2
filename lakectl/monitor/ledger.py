"""The run ledger: one row per lakectl command (and per stage of a nested run) in ops.runs.

Written with delta-rs so that recording a run never starts a JVM; a failure to record only warns.
"""

from __future__ import annotations

import contextvars
import getpass
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakectl.core.results import Result
    from lakectl.engine.context import JobContext
    from lakectl.monitor.inflight import Marker

TABLE = "ops.runs"
log = logging.getLogger(__name__)

# The run that is in progress in this process: a job started inside it is a stage of it.
_current: contextvars.ContextVar[RunRecord | None] = contextvars.ContextVar("lakectl_run", default=None)


@dataclass
class RunRecord:
    run_id: str
    command: str
    params: dict[str, Any]
    target: str
    parent_run_id: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stages: int = 0
    result: Result | None = None  # set by run_job when the job returns


COLUMNS: list[tuple[str, str]] = [
    ("run_id", "string"),
    ("parent_run_id", "string"),
    ("command", "string"),
    ("params", "string"),
    ("target", "string"),
    ("user", "string"),
    ("started_at", "timestamp"),
    ("ended_at", "timestamp"),
    ("duration_s", "float64"),
    ("status", "string"),
    ("rows_in", "int64"),
    ("rows_out", "int64"),
    ("rows_quarantined", "int64"),
    ("tables_read", "list<string>"),
    ("tables_written", "list<string>"),
    ("error", "string"),
]


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _one_line(exc: BaseException) -> str:
    from lakectl.core.errors import translate

    return translate(exc).one_line()[:500]


def row(record: RunRecord, result: Result | None, error: BaseException | None) -> dict[str, Any]:
    from lakectl.config import mask_secrets

    ended = datetime.now(UTC)
    if error is not None:
        from lakectl.core.errors import Interrupted

        status = "interrupted" if isinstance(error, (KeyboardInterrupt, Interrupted)) else "failed"
    else:
        status = result.status if result is not None else "ok"
        if result is not None and result.dry_run:
            status = "dry_run"
    return {
        "run_id": record.run_id,
        "parent_run_id": record.parent_run_id,
        "command": record.command,
        "params": json.dumps(mask_secrets(record.params), default=str, sort_keys=True),
        "target": record.target,
        "user": _user(),
        "started_at": record.started_at,
        "ended_at": ended,
        "duration_s": round((ended - record.started_at).total_seconds(), 3),
        "status": status,
        "rows_in": result.rows_read if result else None,
        "rows_out": result.rows_written if result else None,
        "rows_quarantined": result.rows_quarantined if result else None,
        "tables_read": list(result.tables_read) if result else [],
        "tables_written": list(result.tables_written) if result else [],
        "error": _one_line(error) if error is not None else None,
    }


def write_rows(path: str, rows: list[dict[str, Any]]) -> None:
    from lakectl.lake.deltars import append

    append(path, rows, COLUMNS)


@contextmanager
def recording(ctx: JobContext, name: str, params: dict[str, Any]) -> Iterator[RunRecord]:
    """Record the job run inside this block in ops.runs, whether it succeeds or fails; a UsageError (exit 2: the
    job refused its input before doing anything) is not a run and is not recorded.

    The outermost job gets ctx.run_id; jobs started inside it (demo's stages) are recorded as
    stages with their own id and parent_run_id. Recording problems only warn.
    """
    parent = _current.get()
    if parent is None and _read_only(name, params) and not ctx.settings.monitor.record_read_only:
        yield RunRecord(ctx.run_id, name, params, _target_name(ctx))  # not recorded: see _read_only
        return
    if parent is None:
        record = RunRecord(ctx.run_id, name, params, _target_name(ctx))
    else:
        parent.stages += 1
        record = RunRecord(f"{parent.run_id}.{parent.stages}", name, params, parent.target, parent_run_id=parent.run_id)
    token = _current.set(record)
    marker = _mark_in_flight(ctx, record) if parent is None else None
    try:
        yield record
    except BaseException as exc:
        from lakectl.core.errors import UsageError

        if isinstance(exc, UsageError):  # bad input (a typo, a bad value) is no run: it would bury the real ones
            raise
        problem = _safe_write(ctx, record, getattr(exc, "result", None), exc)  # an interrupted run's committed rows
        if problem:
            print(f"lakectl: warning: {problem}", file=sys.stderr)
        raise
    else:
        problem = _safe_write(ctx, record, record.result, None)
        if problem and record.result is not None:
            record.result.warnings.append(problem)
    finally:
        _current.reset(token)
        if marker is not None:
            marker.release()


def _ledger_off() -> bool:
    return os.environ.get("LAKECTL_LEDGER", "").lower() in {"0", "off", "false", "no"}


def _mark_in_flight(ctx: JobContext, record: RunRecord) -> Marker | None:
    """Record runs that died unrecorded (see monitor/inflight.py), then mark this one as in flight."""
    if _ledger_off():
        return None
    from lakectl.monitor.inflight import mark, runs_dir, sweep

    directory = runs_dir(ctx.settings.storage.checkpoints_dir)
    path = ctx.settings.table(TABLE).path
    try:
        swept = sweep(directory, lambda rows: write_rows(path, rows))
        if swept:
            log.info("recorded %d run(s) that ended unrecorded as interrupted", swept)
        return mark(directory, record.run_id, row(record, None, None))
    except Exception as exc:  # a file system without flock (a FUSE mount): the run still records its own end
        log.debug("no in-flight marker: %s", exc)
        return None


READ_ONLY_COMMANDS = {"monitor", "query"}
READ_ONLY_ACTIONS = {"model": ("list", "show")}  # the read-only actions of a command that also writes


def _read_only(name: str, params: dict[str, Any]) -> bool:
    """Commands that change nothing stay out of the ledger by default (monitor.record_read_only
    turns them on): a `monitor` loop would otherwise bury the runs that did something."""
    return name in READ_ONLY_COMMANDS or params.get("action") in READ_ONLY_ACTIONS.get(name, ()) or bool(params.get("dry_run"))


def _target_name(ctx: JobContext) -> str:
    return ctx.target_name or ctx.settings.default_target


def _safe_write(ctx: JobContext, record: RunRecord, result: Result | None, error: BaseException | None) -> str | None:
    """Append the row; return a one-line problem instead of raising (the ledger never fails a command)."""
    if _ledger_off():
        return None
    try:
        write_rows(ctx.settings.table(TABLE).path, [row(record, result, error)])
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        msg = f"could not record the run in {TABLE}: {type(exc).__name__}: {first}"
        log.warning(msg)
        return msg
    return None


def read_runs(path: str) -> list[dict[str, Any]]:
    from lakectl.lake.deltars import read_rows

    return read_rows(path)
