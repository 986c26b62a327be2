"""Thin delta-rs helpers: open a table if it exists, append rows, read it as Python rows.

Rows are written and file listings read with arro3 (delta-rs' own small Arrow library), so
recording a run or listing tables imports neither pyarrow nor numpy nor pandas (~0.5-1.5 s of
start-up for a CLI command on this machine); `DeltaTable.to_pyarrow_table` would also import pandas,
so ops tables are read through delta-rs' query engine.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable


def open_table(path: str) -> DeltaTable | None:
    """The Delta table at `path`, or None when there is none (yet)."""
    from deltalake import DeltaTable

    if "://" not in path and not (Path(path) / "_delta_log").is_dir():
        return None
    try:
        return DeltaTable(path)
    except Exception:  # TableNotFoundError and friends: treat as missing
        return None


def open_local_table(path: str) -> DeltaTable | None:
    """The table opened with delta-rs when it is local, so its log is read without a Spark job; None
    for a remote path, a missing table or one delta-rs cannot read (the caller asks Spark then)."""
    return open_table(path) if "://" not in path else None


# Column kinds of the ops tables this package writes.
Kind = str  # "string" | "int64" | "float64" | "timestamp" (UTC, microseconds) | "list<string>"


def to_arro3(rows: list[dict[str, Any]], columns: list[tuple[str, Kind]]) -> Any:
    """An arro3 Table (delta-rs' own Arrow library) from Python rows: no pyarrow/numpy import."""
    import arro3.core as a

    types = {"string": a.DataType.string(), "int64": a.DataType.int64(), "float64": a.DataType.float64()}
    data = {}
    for name, kind in columns:
        values = [r.get(name) for r in rows]
        if kind == "timestamp":  # arro3 builds no timestamps from Python objects: cast from epoch microseconds
            micros = [None if v is None else int(v.timestamp() * 1_000_000) if isinstance(v, datetime) else int(v) for v in values]
            data[name] = a.Array(micros, a.DataType.int64()).cast(a.DataType.timestamp("us", tz="UTC"))
        elif kind == "list<string>":
            flat = [str(x) for v in values for x in (v or [])]
            offsets = [0]
            for v in values:
                offsets.append(offsets[-1] + len(v or []))
            data[name] = a.list_array(a.Array(offsets, a.DataType.int32()), a.Array(flat, a.DataType.string()))
        else:
            data[name] = a.Array(values, types[kind])
    return a.Table.from_pydict(data)


# An ops table gets one small commit per command or micro-batch. Without a checkpoint every append
# replays the whole JSON log first, so the ledger write grew with the table: ~20 ms at 60 commits,
# 25-55 ms past 100 here. A checkpoint every 10 commits keeps an append at ~11-16 ms.
OPS_TABLE_PROPERTIES = {"delta.checkpointInterval": "10"}


def append(path: str, rows: list[dict[str, Any]], columns: list[tuple[str, Kind]], attempts: int = 5) -> None:
    """Append rows with delta-rs; creates the table on first use. delta-rs retries concurrent appends
    itself, but not a commit that meets changed metadata: two processes creating the table at once.
    That commit is retried here, against the table the other process created."""
    import time

    from deltalake import write_deltalake
    from deltalake.exceptions import CommitFailedError

    if "://" not in path:
        Path(path).mkdir(parents=True, exist_ok=True)
    for attempt in range(attempts):
        new = "://" not in path and not (Path(path) / "_delta_log").is_dir()
        try:  # a fresh Arrow table each time: a failed write may have consumed the stream
            write_deltalake(
                path, to_arro3(rows, columns), mode="append", schema_mode="merge", configuration=OPS_TABLE_PROPERTIES if new else None
            )
            return
        except CommitFailedError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def column_lists(table: Any) -> dict[str, list[Any]]:
    """name -> Python values of an arro3 (or any Arrow) table, without pyarrow."""
    return {f.name: table.column(f.name).to_pylist() for f in table.schema}


def arrow(data: Any) -> pa.Table:
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


def schema_fields(path: str) -> tuple[tuple[str, str], ...]:
    """(column, type) of a Delta table from its log, types written as Spark SQL spells them; () when there is no table."""
    dt = open_table(path)
    if dt is None:
        return ()
    return tuple((f.name, _type_name(f.type)) for f in dt.schema().fields)


def _type_name(t: Any) -> str:
    kind = type(t).__name__
    if kind == "PrimitiveType":
        return str(t.type)
    if kind == "ArrayType":
        return f"array<{_type_name(t.element_type)}>"
    if kind == "MapType":
        return f"map<{_type_name(t.key_type)},{_type_name(t.value_type)}>"
    if kind == "StructType":
        return "struct<" + ",".join(f"{f.name}:{_type_name(f.type)}" for f in t.fields) + ">"
    return str(t)
