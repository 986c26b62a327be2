"""Dry runs from the Delta log, without a JVM: the DuckDB engine's delta-rs reads (DESCRIBE DETAIL, HISTORY and
columns from the log) and VACUUM's candidates from delta-rs' own VACUUM dry run, under the capabilities of the
engine a real run would use, so a plan says what that run would do. Only the dry runs use it; a statement that
would change something is refused, and anything delta-rs cannot answer raises NotForDuckDB so the caller asks
Spark instead."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lakectl.engine.duck import DuckEngine, NotForDuckDB
from lakectl.engine.protocol import Capabilities

if TYPE_CHECKING:
    from lakectl.config import Settings, TableHandle


class LogPlanner(DuckEngine):
    """Answers a dry run's questions from the Delta log, as `real` (the engine a run would use) would plan."""

    def __init__(self, settings: Settings, real: Capabilities) -> None:
        super().__init__(settings)
        self._real = real

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        return self._real

    @contextmanager
    def with_settings(self, settings: Mapping[str, str]) -> Iterator[Any]:
        yield self  # the settings a real statement would run with change what it does, not what a plan reads

    def detail(self, handle: TableHandle) -> dict[str, Any] | None:
        found = super().detail(handle)
        table = self._open(handle) if found is not None else None
        if table is not None and "clustering" in (table.protocol().writer_features or []):
            raise NotForDuckDB(f"{handle.display} is liquid-clustered: its clustering columns are Spark's to read")
        return found

    def vacuum_candidates(self, handle: TableHandle, retain_hours: float) -> list[str]:
        """The files `VACUUM ... RETAIN retain_hours HOURS` would delete (Delta's FULL mode: every file the current
        snapshot does not reference, older than the retention), as paths under the table's location."""
        table = self._open(handle)
        if table is None:
            raise NotForDuckDB(f"{handle.display} is not a local Delta table")
        if retain_hours != int(retain_hours):
            raise NotForDuckDB("delta-rs takes whole hours of retention")
        try:
            found = table.vacuum(retention_hours=int(retain_hours), dry_run=True, enforce_retention_duration=False, full=True)
        except Exception as exc:  # a table feature delta-rs does not handle: Spark can
            raise NotForDuckDB(f"delta-rs cannot plan VACUUM on {handle.display}: {str(exc).splitlines()[0][:200]}") from exc
        if any(f.rsplit("/", 1)[-1].startswith("deletion_vector_") for f in found):
            # delta-rs lists every deletion-vector file, the ones the snapshot still applies too: Spark can tell
            raise NotForDuckDB(f"delta-rs cannot tell which deletion vectors of {handle.display} are still in use")
        location = table.table_uri.rstrip("/")
        return [f"{location}/{f}" for f in sorted(found) if not _hidden(f)]


def _hidden(path: str) -> bool:
    """Whether Delta's VACUUM skips the file: a hidden name (`.x.crc`, `_x`) or under a hidden folder other than
    the change data and partition folders (Delta's isHiddenDirectory)."""
    *folders, name = path.split("/")
    if name.startswith((".", "_")):
        return True
    return any(f.startswith((".", "_")) and not f.startswith(("_change_data", "_delta_index")) and "=" not in f for f in folders)
