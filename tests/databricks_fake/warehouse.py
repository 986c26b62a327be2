"""A SQL warehouse engine for the fake: statements run on a local Spark session (Delta enabled).

Binding: Spark 4.2.0 with delta-spark 4.4.0 leaves parameter markers unbound (UNBOUND_SQL_PARAMETER
for `spark.sql(q, args={...})`, positional `?` args and EXECUTE IMMEDIATE ... USING alike, checked),
so this engine binds each `:name` by substituting a typed, escaped literal of the submitted value
(`CAST('...' AS TYPE)`): a value can never become SQL text, as on a real warehouse.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable

_TYPES = {"ByteType": "BYTE", "ShortType": "SHORT", "IntegerType": "INT", "LongType": "LONG", "FloatType": "FLOAT",
          "DoubleType": "DOUBLE", "DecimalType": "DECIMAL", "StringType": "STRING", "BooleanType": "BOOLEAN",
          "DateType": "DATE", "TimestampType": "TIMESTAMP", "TimestampNTZType": "TIMESTAMP_NTZ", "BinaryType": "BINARY"}
_SQL_TYPES = {"STRING", "BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP"}
_TOKENS = re.compile(r"'(?:[^'\\]|\\.)*'|`[^`]*`|::|:([A-Za-z_]\w*)")


def spark_engine(spark: Any) -> Callable[..., tuple[list[tuple[str, str]], list[list[str | None]]]]:
    def run(statement: str, params: dict[str, tuple[Any, str]], catalog: str | None, schema: str | None):
        if catalog:
            spark.catalog.setCurrentCatalog(catalog)
        if schema:
            spark.catalog.setCurrentDatabase(schema)
        df = spark.sql(bind(statement, params))
        columns = [(f.name, _TYPES.get(type(f.dataType).__name__, "STRING")) for f in df.schema.fields]
        return columns, [[_text(v) for v in row] for row in df.collect()]
    return run


def bind(statement: str, params: dict[str, tuple[Any, str]]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name is None:
            return m.group(0)  # a literal, a quoted name or `::`
        if name not in params:
            raise ValueError(f"[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {name}")
        return _literal(*params[name])
    return _TOKENS.sub(repl, statement)


def _literal(value: Any, kind: str) -> str:
    kind = (kind or "STRING").split("(")[0].upper()
    if kind not in _SQL_TYPES:
        raise ValueError(f"unsupported parameter type {kind}")
    if value is None:
        return f"CAST(NULL AS {kind})"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"CAST('{text}' AS {kind})"


def _text(value: Any) -> str | None:
    """Values as the JSON_ARRAY format sends them: strings (or null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)
