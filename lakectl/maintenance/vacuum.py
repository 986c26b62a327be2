"""VACUUM with two guards: the table's retention period, and the streams still reading the table.

Guard 1 (retention): a retention shorter than the table's `delta.deletedFileRetentionDuration`
(default 7 days) is refused unless forced. A forced short retention runs with Delta's own check off
for that one statement (an engine with session settings; the caller's session conf is never changed).

Guard 2 (streams): every Structured Streaming checkpoint under `storage.checkpoints_dir` whose
Delta source offsets name this table (reservoirId = table id) needs the files of every commit from
the version it will read next (reservoirVersion of the last offsets it may still replay) onwards;
when that offset is a starting snapshot (isStartingVersion), also every file live at that version.
If VACUUM would delete one of those files, it is refused (--force does not override this).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lakectl.core import sql
from lakectl.core.errors import UsageError

if TYPE_CHECKING:
    from lakectl.config import TableHandle
    from lakectl.engine.protocol import SqlEngine

DEFAULT_RETENTION_HOURS = 168.0
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)?\s*$", re.I)
_HOURS_PER = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}


def parse_hours(text: str | float | int | None) -> float | None:
    """'168h', '7d', '30 minutes', 'interval 7 days', '12' (hours) -> hours."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    value = str(text).strip()
    if value.lower().startswith("interval"):
        value = value[len("interval") :]
    m = _DURATION.match(value)
    if not m:
        raise UsageError(f"bad retention {text!r}", "write hours like 168h, or 7d, 30m")
    unit = (m.group(2) or "h").lower()
    unit = "m" if unit.startswith("mi") or unit == "m" else unit[0]
    return float(m.group(1)) * _HOURS_PER[unit]


def table_retention_hours(properties: dict[str, str]) -> float:
    value = properties.get("delta.deletedFileRetentionDuration")
    return parse_hours(value) if value else DEFAULT_RETENTION_HOURS  # type: ignore[return-value]


@dataclass
class StreamReader:
    checkpoint: str
    version: int  # the oldest table version the stream may still read
    snapshot: bool  # it reads the whole snapshot at `version` (isStartingVersion)


@dataclass
class VacuumOutcome:
    retain_hours: float
    files: list[str] = field(default_factory=list)
    deleted: int = 0
    dry_run: bool = False
    forced_short_retention: bool = False
    streams: list[StreamReader] = field(default_factory=list)


def check_retention(retain_hours: float, properties: dict[str, str], *, force: bool, table: str) -> str | None:
    """Refuse a retention shorter than the table's; with force, return the loud warning instead."""
    minimum = table_retention_hours(properties)
    if retain_hours >= minimum:
        return None
    what = f"{table}: VACUUM retention {retain_hours:g}h is shorter than the table's delta.deletedFileRetentionDuration ({minimum:g}h)"
    if not force:
        raise UsageError(what, f"retain at least {minimum:g}h, or pass --force if no reader or writer can still need older files")
    return f"FORCED: {what}; readers of older versions and time travel past {retain_hours:g}h will fail, running writers may lose files"


def streams_reading(checkpoints_dir: Path, table_id: str) -> list[StreamReader]:
    """Streaming checkpoints whose Delta source is the table with `table_id` (see module doc)."""
    readers: list[StreamReader] = []
    if not checkpoints_dir.exists():
        return readers
    for offsets in checkpoints_dir.rglob("offsets"):
        if not offsets.is_dir():
            continue
        batches = sorted(int(p.name) for p in offsets.iterdir() if p.name.isdigit())
        if not batches:
            continue
        latest = batches[-1]
        committed = (offsets.parent / "commits" / str(latest)).exists()
        # A committed last batch means the stream starts from its end offset; an uncommitted one is
        # replayed from the end of the batch before it (or from its own start snapshot).
        candidates = [latest] if committed else [b for b in batches[-2:]]
        found: list[tuple[int, bool]] = []
        for batch in candidates:
            for source in _source_offsets(offsets / str(batch)):
                if source.get("reservoirId") == table_id and "reservoirVersion" in source:
                    found.append((int(source["reservoirVersion"]), bool(source.get("isStartingVersion"))))
        if found:
            version = min(v for v, _ in found)
            readers.append(StreamReader(str(offsets.parent), version, any(s for v, s in found if v == version)))
    return readers


def _source_offsets(file: Path) -> list[dict]:
    try:
        lines = file.read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines[2:]:  # "v1", then the batch metadata, then one offset per source
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def files_needed_from(table_path: str, version: int, snapshot: bool) -> set[str]:
    """Relative paths of data files a stream reading from `version` still needs (module doc)."""
    log = Path(_local(table_path)) / "_delta_log"
    needed: set[str] = set()
    for commit in sorted(log.glob("*.json")):
        if not commit.stem.isdigit():
            continue
        v = int(commit.stem)
        if v < version:
            continue
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                needed.add(unquote(action["add"]["path"]))
            elif "remove" in action and snapshot and v > version:
                needed.add(unquote(action["remove"]["path"]))
    return needed


def _local(path: str) -> str:
    return urlparse(path).path if path.startswith("file:") else path


def relative(table_path: str, file: str) -> str:
    root = _local(table_path).rstrip("/") + "/"
    local = unquote(_local(file))
    return local[len(root) :] if local.startswith(root) else local


def vacuum_settings(*, short: bool) -> dict[str, str]:
    """Session settings for one VACUUM statement: Delta's retention check off, for a forced short retention only."""
    return {RETENTION_CHECK: "false"} if short else {}


def dry_run_files(engine: SqlEngine, handle: TableHandle, retain_hours: float, *, short: bool) -> list[str]:
    """The files VACUUM would delete (VACUUM ... DRY RUN; from delta-rs when the engine plans from the log)."""
    from_log = getattr(engine, "vacuum_candidates", None)
    if from_log is not None:
        return list(from_log(handle, retain_hours))
    with engine.with_settings(vacuum_settings(short=short)) as session:
        return [str(r["path"]) for r in session.rows(sql.vacuum_sql(handle.ref, retain_hours=retain_hours, dry_run=True))]


def vacuum(engine: SqlEngine, handle: TableHandle, retain_hours: float, *, short: bool, candidates: list[str]) -> int:
    """Run VACUUM; returns the number of files deleted: from the VACUUM END commit's metrics when Delta
    logs one, else the dry-run candidates that are gone afterwards (when they are local paths; all of
    them when this machine cannot see them)."""
    with engine.with_settings(vacuum_settings(short=short)) as session:
        session.rows(sql.vacuum_sql(handle.ref, retain_hours=retain_hours))
        last = session.history(handle, 1)
    if last and last[0].get("operation") == "VACUUM END":
        return int((last[0].get("operationMetrics") or {}).get("numDeletedFiles", 0))
    local = [f for f in candidates if f.startswith(("/", "file:"))]
    if local and len(local) == len(candidates):
        return sum(1 for f in local if not Path(_local(f)).exists())
    return len(candidates)
