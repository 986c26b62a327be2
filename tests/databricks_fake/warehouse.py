"""A SQL warehouse engine for the fake: statements run on a local Spark session (Delta enabled).

Binding: Spark 4.2.0 with delta-spark 4.4.0 leaves parameter markers unbound (UNBOUND_SQL_PARAMETER
for `spark.sql(q, args={...})`, positional `?` args and EXECUTE IMMEDIATE ... USING alike, checked),
so this engine binds each `:name` by substituting a typed, escaped literal of the submitted value
(`CAST('...' AS TYPE)`): a value can never become SQL text, as on a real warehouse.

Databricks-only statements that open-source Spark + Delta cannot parse (CREATE BLOOMFILTER INDEX,
ANALYZE TABLE ... COMPUTE DELTA STATISTICS) are NOT executed: each must match the documented
grammar exactly (`DATABRICKS_ONLY`), its table must exist, and it is then recorded in `not_run`
and answered SUCCEEDED with no rows (what Databricks answers). Tests assert on `not_run`; whether a
real warehouse accepts them is stated as untested in docs/targets.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from tests.databricks_fake import system_tables

_TYPES = {
    "ByteType": "BYTE",
    "ShortType": "SHORT",
    "IntegerType": "INT",
    "LongType": "LONG",
    "FloatType": "FLOAT",
    "DoubleType": "DOUBLE",
    "DecimalType": "DECIMAL",
    "StringType": "STRING",
    "BooleanType": "BOOLEAN",
    "DateType": "DATE",
    "TimestampType": "TIMESTAMP",
    "TimestampNTZType": "TIMESTAMP_NTZ",
    "BinaryType": "BINARY",
    "ArrayType": "ARRAY",
    "MapType": "MAP",
    "StructType": "STRUCT",
}
_SQL_TYPES = {"STRING", "BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP"}
_IDENT = r"`(?:[^`]|``)+`"
_NAME = rf"{_IDENT}(?:\.{_IDENT}){{0,2}}"
_BLOOM_COL = rf"{_IDENT} OPTIONS \(fpp=[0-9.]+, numItems=[0-9]+\)"
DATABRICKS_ONLY = [
    re.compile(rf"^CREATE BLOOMFILTER INDEX ON TABLE (?P<table>{_NAME}) FOR COLUMNS\({_BLOOM_COL}(?:, {_BLOOM_COL})*\)$"),
    re.compile(rf"^ANALYZE TABLE (?P<table>{_NAME}) COMPUTE DELTA STATISTICS$"),
]
_TOKENS = re.compile(r"'(?:[^'\\]|\\.)*'|`[^`]*`|::|:([A-Za-z_]\w*)")


def spark_engine(spark: Any) -> Callable[..., tuple[list[tuple[str, str]], list[list[str | None]]]]:
    # A session of its own, sized like a small warehouse: VACUUM lists with 10000 tasks and Delta rebuilds
    # snapshots with 50 partitions by default, minutes on a test machine. The caller's session is untouched.
    session = spark.newSession()
    session.conf.set("spark.sql.sources.parallelPartitionDiscovery.parallelism", "4")
    session.conf.set("spark.databricks.delta.snapshotPartitions", "4")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    spark = session

    def run(statement: str, params: dict[str, tuple[Any, str]], catalog: str | None, schema: str | None):
        if catalog:
            spark.catalog.setCurrentCatalog(catalog)
        if schema:
            spark.catalog.setCurrentDatabase(schema)
        for grammar in DATABRICKS_ONLY:
            m = grammar.match(statement)
            if m:
                if params:
                    raise ValueError("[UNBOUND_SQL_PARAMETER] this statement takes no parameters")
                spark.sql(f"DESCRIBE DETAIL {m['table']}").collect()  # the table must exist (else the real error)
                run.not_run.append(statement)
                return [], []
        upper = statement.upper()
        if upper.startswith("CREATE BLOOMFILTER") or (upper.startswith("ANALYZE") and "DELTA STATISTICS" in upper):
            raise ValueError(f"[PARSE_SYNTAX_ERROR] not the documented grammar: {statement[:200]}")
        df = spark.sql(bind(system_tables.rewrite(statement), params))
        columns = [(f.name, _TYPES.get(type(f.dataType).__name__, "STRING")) for f in df.schema.fields]
        return columns, [[_text(v) for v in row] for row in df.collect()]

    run.not_run = []  # type: ignore[attr-defined]
    run.session = spark  # type: ignore[attr-defined]  # where system_tables.install puts the system tables
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
    if isinstance(value, (list, dict)) or hasattr(value, "asDict"):
        return json.dumps(_plain(value), default=str)  # ARRAY / MAP / STRUCT: JSON text
    return str(value)


def _plain(value: Any) -> Any:
    if hasattr(value, "asDict"):
        value = value.asDict(recursive=True)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
