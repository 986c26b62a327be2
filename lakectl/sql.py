"""The one place that quotes identifiers and literals and builds SQL text.

Every table, column or principal name that comes from config or flags reaches SQL through
`quote_ident`, `quote_name` or `table_ref`; nothing else in lakectl formats names into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Quote one identifier part with backticks, doubling embedded backticks."""
    if not isinstance(name, str) or name == "":
        raise ValueError("an identifier must be a non-empty string")
    if "\x00" in name:
        raise ValueError("an identifier must not contain NUL")
    return "`" + name.replace("`", "``") + "`"


def quote_name(*parts: str) -> str:
    """Quote a multi-part name: quote_name('main', 'bronze', 'events') -> `main`.`bronze`.`events`."""
    return ".".join(quote_ident(p) for p in parts if p is not None)


def quote_columns(columns: Iterable[str]) -> str:
    return ", ".join(quote_ident(c) for c in columns)


def quote_string(value: str) -> str:
    """A SQL string literal with backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def path_ref(path: str) -> str:
    """A path-addressed Delta table: delta.`/some/path`."""
    return "delta." + quote_ident(path)


def is_simple_identifier(name: str) -> bool:
    return bool(_SIMPLE.match(name))
