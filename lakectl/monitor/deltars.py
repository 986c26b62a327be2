"""Thin delta-rs helpers: open a table if it exists, append rows, read it as Python rows.

Rows go to Arrow through pyarrow's JSON reader (with an explicit schema) and tables are read
through delta-rs' own query engine: both keep pandas out of the process (`pa.array` on Python
lists and `DeltaTable.to_pyarrow_table` import it, ~0.5-1 s of start-up for a CLI command).
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
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


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def to_arrow(rows: list[dict[str, Any]], schema: "pa.Schema") -> "pa.Table":
    from pyarrow import json as pa_json

    text = "\n".join(json.dumps(r, default=_json_default) for r in rows).encode()
    return pa_json.read_json(io.BytesIO(text), parse_options=pa_json.ParseOptions(explicit_schema=schema))


def append(path: str, rows: list[dict[str, Any]], schema: "pa.Schema") -> None:
    """Append rows with delta-rs; creates the table on first use. Concurrent appends are retried by delta-rs."""
    from deltalake import write_deltalake

    if "://" not in path:
        Path(path).mkdir(parents=True, exist_ok=True)
    write_deltalake(path, to_arrow(rows, schema), mode="append", schema_mode="merge")


def arrow(data: Any) -> "pa.Table":
    """A pyarrow Table from anything that exports the Arrow C stream (delta-rs' arro3 results)."""
    import pyarrow as pa

    return pa.RecordBatchReader.from_stream(data).read_all()


def read_rows(path: str) -> list[dict[str, Any]]:
    """All rows of a (small, ops) table as dicts; [] when the table does not exist."""
    dt = open_table(path)
    if dt is None:
        return []
    from deltalake import QueryBuilder

    return arrow(QueryBuilder().register("t", dt).execute("SELECT * FROM t")).to_pylist()
