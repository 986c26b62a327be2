"""Read-only SQL over local Delta tables with DuckDB: delta-rs hands each table's current snapshot
to DuckDB as an Arrow dataset, so `lakectl query` answers in about a second instead of starting a JVM.

DuckDB's SQL dialect is not Spark's (docs/query.md lists the differences that matter here); a
statement DuckDB cannot parse or bind is handed back (`NotForDuckDB`) so the caller can run it on Spark.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.sql import quote_ansi_ident

if TYPE_CHECKING:
    from lakectl.config import Settings


class NotForDuckDB(Exception):
    """DuckDB cannot run this statement here (dialect, table feature): run it on Spark instead."""


def run_sql(settings: "Settings", sql: str, keys: list[str], limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows (at most limit + 1 when limit > 0) of `sql`, each of `keys` (schema.name)
    visible under its logical name."""
    import duckdb
    from deltalake import DeltaTable

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        for i, key in enumerate(keys):
            handle = settings.table(key)
            try:
                dataset = DeltaTable(handle.path).to_pyarrow_dataset()
            except Exception as exc:  # a table feature delta-rs cannot read: Spark can
                raise NotForDuckDB(f"delta-rs cannot read {key}: {str(exc).splitlines()[0][:200]}") from exc
            source = f"lakectl_table_{i}"
            con.register(source, dataset)
            schema, name = quote_ansi_ident(handle.schema_name), quote_ansi_ident(handle.name)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f"CREATE VIEW {schema}.{name} AS SELECT * FROM {quote_ansi_ident(source)}")
        try:
            relation = con.sql(sql)
            if relation is None:
                return [], []
            columns = list(relation.columns)
            rows = (relation.limit(limit + 1) if limit else relation).fetchall()
        except duckdb.Error as exc:
            raise _translate(exc, settings, sql) from exc
        return columns, rows
    finally:
        con.close()


_MISSING_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found', re.I)
_CANDIDATES = re.compile(r'Candidate bindings:\s*(.+)', re.I)
_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist", re.I)


def _translate(exc: Exception, settings: "Settings", sql: str) -> Exception:
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
        return TableNotFound(f"unknown table {name} in the query",
                             did_you_mean(name, known) or f"tables are named schema.name: {', '.join(known)}")
    return NotForDuckDB(first[:300])
