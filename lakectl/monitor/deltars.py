"""Thin delta-rs helpers: open a table if it exists, append rows, read it as Python rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable


def open_table(path: str) -> "DeltaTable | None":
    """The Delta table at `path`, or None when there is none (yet)."""
    from deltalake import DeltaTable

    if "://" not in path and not (Path(path) / "_delta_log").is_dir():
        return None
    try:
        return DeltaTable(path)
    except Exception:  # TableNotFoundError and friends: treat as missing
        return None


def append(path: str, table: "pa.Table") -> None:
    """Append with delta-rs; creates the table on first use. Concurrent appends are retried by delta-rs."""
    from deltalake import write_deltalake

    if "://" not in path:
        Path(path).mkdir(parents=True, exist_ok=True)
    write_deltalake(path, table, mode="append", schema_mode="merge")


def read_rows(path: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """All rows of a (small, ops) table as dicts; [] when the table does not exist."""
    dt = open_table(path)
    if dt is None:
        return []
    import pyarrow.dataset  # noqa: F401  (to_pyarrow_table needs it)

    present = {f.name for f in dt.schema().fields}
    cols = [c for c in columns if c in present] if columns else None
    return dt.to_pyarrow_table(columns=cols).to_pylist()
