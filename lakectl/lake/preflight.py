"""Checks that need no Spark, run before a job starts its JVM: a typo costs milliseconds, not 30 s.

Tables are looked up in the Delta log with delta-rs; unknown names get a "did you mean" from the
names lakectl knows. Tables in a catalog (storage.catalog) or on object storage are left to Spark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.suggest import did_you_mean

if TYPE_CHECKING:
    from lakectl.config import Settings, TableHandle

# What creates each default table, for the hint when a known table does not exist yet.
CREATED_BY = {"bronze": "lakectl ingest", "silver": "lakectl transform", "gold": "lakectl aggregate", "ops": "any lakectl command"}


def checkable(handle: TableHandle) -> bool:
    """Whether delta-rs can answer for this table here: a local path, no catalog."""
    return not handle.spark_catalog and "://" not in handle.path


def exists(handle: TableHandle) -> bool:
    return (Path(handle.path) / "_delta_log").is_dir()


def require_table(settings: Settings, key: str) -> TableHandle:
    """The table `key`, or TableNotFound: an unknown name says which known name is close; a known
    one that was not written yet names the command that creates it."""
    handle = settings.table(key)
    if not checkable(handle) or exists(handle):
        return handle
    known = settings.table_keys()
    if key not in known:
        hint = did_you_mean(key, known) or f"known tables: {', '.join(known)}"
        raise TableNotFound(f"table {key} does not exist", hint)
    maker = CREATED_BY.get(handle.schema_name)
    raise TableNotFound(
        f"table {key} does not exist yet ({handle.path})", f"run `{maker}` first" if maker else "run the stage that writes it first"
    )


def columns(handle: TableHandle) -> list[str]:
    from deltalake import DeltaTable

    return [f.name for f in DeltaTable(handle.path).schema().fields]


def require_columns(handle: TableHandle, wanted: Iterable[str], existing: list[str], what: str) -> None:
    for name in wanted:
        if name not in existing:
            hint = did_you_mean(name, existing) or f"columns: {', '.join(existing)}"
            raise UsageError(f"{handle.display}: {what} column {name!r} is not in the table", hint)


# Words a partition predicate may hold besides column names (SQL keywords, literals).
_SQL_WORDS = {
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "between",
    "like",
    "rlike",
    "ilike",
    "date",
    "timestamp",
    "interval",
    "year",
    "years",
    "month",
    "months",
    "day",
    "days",
    "hour",
    "hours",
    "minute",
    "minutes",
    "case",
    "when",
    "then",
    "else",
    "end",
    "cast",
    "as",
    "string",
    "int",
    "bigint",
    "long",
    "double",
    "float",
    "decimal",
}
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NAME = re.compile(r"`((?:[^`]|``)+)`|\b([A-Za-z_][A-Za-z0-9_]*)\b(\s*\()?")


def predicate_columns(predicate: str) -> list[str]:
    """Column names a simple SQL predicate refers to (not keywords, literals or function names)."""
    names = []
    for m in _NAME.finditer(_LITERAL.sub("''", predicate)):
        quoted, word, call = m.group(1), m.group(2), m.group(3)
        if quoted is not None:
            names.append(quoted.replace("``", "`"))
        elif word and not call and word.lower() not in _SQL_WORDS and not word[0].isdigit():
            names.append(word)
    return names


def check_partition_predicate(handle: TableHandle, predicate: str, existing: list[str], partitions: list[str]) -> None:
    """OPTIMIZE ... WHERE may only name partition columns: say so before Spark does."""
    for name in predicate_columns(predicate):
        if name in partitions:
            continue
        if name in existing:
            raise UsageError(
                f"{handle.display}: --where may only use partition columns; {name!r} is not one",
                f"partition columns: {', '.join(partitions)}" if partitions else f"{handle.display} is not partitioned: drop --where",
            )
        hint = did_you_mean(name, partitions or existing) or f"partition columns: {', '.join(partitions) or '(none)'}"
        raise UsageError(f"{handle.display}: --where column {name!r} is not in the table", hint)
