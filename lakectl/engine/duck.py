"""The DuckDB engine: read-only SQL over local Delta tables. delta-rs hands each table's current snapshot
to DuckDB as an Arrow dataset (or, for a table with deletion vectors, as the rows its DataFusion reader
returns), so `lakectl query` answers in about a second instead of starting a JVM; details and history come
from the Delta log through delta-rs.

DuckDB's SQL dialect is not Spark's (docs/query.md lists the differences that matter here); a
statement DuckDB cannot parse or bind is handed back (`NotForDuckDB`) so the caller can run it on Spark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.sql import quote_ansi_ident
from lakectl.engine.protocol import Capabilities, NoSessionSettings, Rows

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from lakectl.config import Settings, TableHandle


class NotForDuckDB(Exception):
    """DuckDB cannot run this statement here (dialect, table feature): run it on Spark instead."""


class DuckEngine(NoSessionSettings):
    """DuckDB over delta-rs, in this process, for reads of the lake's local tables."""

    name = "duckdb"
    label = "DuckDB"
    capabilities = Capabilities(local_files=True)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def labels(self) -> dict[str, Any]:
        return {"engine": self.name}

    def query(
        self, statement: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None, tables: Sequence[str] = ()
    ) -> Rows:
        """Columns and rows of `statement`, each of `tables` (schema.name) visible under its logical name."""
        import duckdb
        from deltalake import DeltaTable

        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")
            for i, key in enumerate(tables):
                handle = self.settings.table(key)
                dataset = _snapshot(DeltaTable(handle.path), key)
                source = f"lakectl_table_{i}"
                con.register(source, dataset)
                schema, name = quote_ansi_ident(handle.schema_name), quote_ansi_ident(handle.name)
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                con.execute(f"CREATE VIEW {schema}.{name} AS SELECT * FROM {quote_ansi_ident(source)}")
            try:  # DuckDB names its parameters $name, not :name: values are bound by its own API
                relation = con.sql(statement, params=dict(params)) if params else con.sql(statement)
                if relation is None:
                    return Rows([], [], False)
                columns = list(relation.columns)
                rows = (relation.limit(limit + 1) if limit else relation).fetchall()
            except duckdb.Error as exc:
                raise _translate(exc, self.settings, statement) from exc
        finally:
            con.close()
        truncated = bool(limit) and len(rows) > limit  # type: ignore[operator]
        return Rows(columns, list(rows[:limit] if truncated else rows), truncated)

    def rows(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        answer = self.query(statement, params)
        return [dict(zip(answer.columns, row)) for row in answer.rows]

    def detail(self, handle: TableHandle) -> dict[str, Any] | None:
        table = self._open(handle)
        if table is None:
            return None
        meta, protocol = table.metadata(), table.protocol()
        sizes = table.get_add_actions(flatten=True).column("size_bytes").to_pylist()
        return {
            "format": "delta",
            "id": meta.id,
            "name": meta.name,
            "location": table.table_uri.rstrip("/"),
            "partitionColumns": list(meta.partition_columns),
            "numFiles": len(sizes),
            "sizeInBytes": sum(sizes),
            "properties": dict(meta.configuration),
            "minReaderVersion": protocol.min_reader_version,
            "minWriterVersion": protocol.min_writer_version,
        }

    def history(self, handle: TableHandle, limit: int | None = None) -> list[dict[str, Any]]:
        table = self._open(handle)
        return table.history(limit) if table is not None else []

    def columns(self, handle: TableHandle) -> list[str]:
        table = self._open(handle)
        if table is None:
            raise TableNotFound(f"table {handle.key} does not exist ({handle.path})", "run the stage that writes it first")
        return [f.name for f in table.schema().fields]

    def exists(self, handle: TableHandle) -> bool:
        return self._open(handle) is not None

    @staticmethod
    def _open(handle: TableHandle) -> DeltaTable | None:
        from deltalake import DeltaTable

        if handle.spark_catalog or "://" in handle.path or not (Path(handle.path) / "_delta_log").is_dir():
            return None  # DuckDB reads local paths only; a catalog table is Spark's
        return DeltaTable(handle.path)


def _snapshot(table: DeltaTable, key: str) -> Any:  # noqa: ANN401 - a pyarrow Dataset or Table
    """The table's current rows for DuckDB: a lazy Arrow dataset (DuckDB pushes filters and columns into it) where
    delta-rs offers one; for a table with deletion vectors (silver.events), which that path refuses, the rows as
    delta-rs' DataFusion reader returns them, deletion vectors applied."""
    try:
        return table.to_pyarrow_dataset()
    except Exception as refused:
        import pyarrow as pa
        from deltalake import QueryBuilder

        try:
            return pa.RecordBatchReader.from_stream(QueryBuilder().register("t", table).execute("SELECT * FROM t")).read_all()
        except Exception as exc:  # a table feature neither reader has: Spark can
            raise NotForDuckDB(f"delta-rs cannot read {key}: {str(refused).splitlines()[0][:200]}") from exc


_MISSING_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found', re.I)
_CANDIDATES = re.compile(r"Candidate bindings:\s*(.+)", re.I)
_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist", re.I)


def _translate(exc: Exception, settings: Settings, sql: str) -> Exception:
    """A user mistake becomes a usage error with a hint; a dialect gap becomes NotForDuckDB."""
    import duckdb

    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, duckdb.BinderException) and (m := _MISSING_COLUMN.search(text)) and f'"{m.group(1)}"' not in sql:
        # (a "double-quoted" word is a string literal in Spark SQL and a name in DuckDB: Spark decides)
        candidates = _CANDIDATES.search(text)
        hint = f"did you mean {candidates.group(1).split(',')[0].strip()}?" if candidates else "check the column names (DESCRIBE the table)"
        return UsageError(f"unknown column {m.group(1)} in the query", hint)
    if isinstance(exc, duckdb.CatalogException) and (m := _MISSING_TABLE.search(text)):
        from lakectl.core.suggest import did_you_mean

        name = m.group(1).strip('"!')
        known = settings.table_keys()
        return TableNotFound(
            f"unknown table {name} in the query", did_you_mean(name, known) or f"tables are named schema.name: {', '.join(known)}"
        )
    return NotForDuckDB(first[:300])
