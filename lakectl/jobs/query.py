"""query: run one read-only SQL statement against the lakehouse and return its rows.

Tables are addressed by their logical names (`gold.kpi_hourly`, `silver.events`, ...): each configured
table the statement mentions is registered as a view of that name, so BI-style SQL works unchanged.
Anything but SELECT / WITH / SHOW / DESCRIBE / EXPLAIN is refused before Spark starts (exit 2).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, TYPE_CHECKING, Any

from msgspec import Meta

from lakectl.context import JobContext
from lakectl.errors import TableNotFound, UsageError
from lakectl.results import Result
from lakectl.typed import Model, parse_params

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

READ_ONLY_FIRST = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"}
# Words that make a statement write or change session state, wherever they appear outside literals
# (e.g. `WITH x AS (...) INSERT INTO ...`).
WRITE_WORDS = {"INSERT", "UPDATE", "DELETE", "MERGE", "DROP", "CREATE", "ALTER", "TRUNCATE", "REPLACE", "OPTIMIZE",
               "VACUUM", "RESTORE", "COPY", "GRANT", "REVOKE", "SET", "RESET", "CACHE", "UNCACHE", "REFRESH", "LOAD",
               "MSCK", "USE", "ADD", "CLONE", "CALL", "EXECUTE"}
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`]|``)*`", re.S)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class QueryParams(Model):
    sql: Annotated[str, Meta(min_length=1)]
    limit: Annotated[int, Meta(ge=0)] = 100  # 0 = no limit


def check_read_only(sql: str) -> str:
    """The statement without a trailing semicolon, or UsageError when it is not one read-only statement."""
    code = _COMMENTS.sub(" ", _LITERALS.sub("''", sql)).strip()
    if code.endswith(";"):
        code = code[:-1].rstrip()
        sql = sql.rstrip().removesuffix(";")
    if not code:
        raise UsageError("the query is empty", 'pass one statement, e.g. lakectl query "SELECT * FROM gold.kpi_hourly"')
    if ";" in code:
        raise UsageError("only one statement per query", "remove the extra statements after ';'")
    words = [w.upper() for w in _WORD.findall(code)]
    if not words or words[0] not in READ_ONLY_FIRST:
        raise UsageError(f"refusing {words[0] if words else 'this statement'}: lakectl query is read-only",
                         "use SELECT, WITH, SHOW, DESCRIBE or EXPLAIN")
    writes = sorted(set(words) & WRITE_WORDS)
    if writes:
        raise UsageError(f"refusing a statement containing {', '.join(writes)}: lakectl query is read-only",
                         "quote a column of that name with backticks, or use another lakectl command to change data")
    return sql


def mentioned_tables(ctx: JobContext, sql: str) -> list[str]:
    """Configured table keys (schema.name) that the statement mentions, outside literals and comments."""
    code = _COMMENTS.sub(" ", _LITERALS.sub("''", sql)).lower()
    return [key for key in ctx.settings.table_keys() if re.search(rf"(?<![\w.`]){re.escape(key.lower())}(?![\w`])", code)]


def register_views(spark: "SparkSession", ctx: JobContext, keys: list[str]) -> None:
    """Make `schema.name` resolve to each configured table: a session-catalog view per table."""
    from lakectl.delta import is_delta_table
    from lakectl.sql import quote_ident, quote_name

    if ctx.settings.storage.catalog:
        spark.catalog.setCurrentCatalog(ctx.settings.storage.catalog)  # names resolve in the real catalog
        return
    for key in keys:
        table = ctx.settings.table(key)
        if not is_delta_table(spark, table.path):
            raise TableNotFound(f"table {key} does not exist yet ({table.path})", "run the stage that writes it first")
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_ident(table.schema_name)}")
        spark.sql(f"CREATE OR REPLACE VIEW {quote_name(table.schema_name, table.name)} AS SELECT * FROM {table.ref}")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "asDict"):
        return _plain(value.asDict())
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, QueryParams)
    sql = check_read_only(p.sql)  # before Spark starts: a refused statement costs nothing
    keys = mentioned_tables(ctx, sql)
    spark = ctx.spark
    register_views(spark, ctx, keys)
    df = spark.sql(sql)
    rows = (df.limit(p.limit + 1) if p.limit else df).collect()
    truncated = bool(p.limit) and len(rows) > p.limit
    rows = rows[: p.limit] if p.limit else rows
    columns = df.columns
    return Result(
        job="query",
        rows_read=len(rows),
        tables_read=[ctx.settings.table(k).display for k in keys],
        metrics={"columns": columns, "rows": [[_plain(v) for v in r] for r in rows], "row_count": len(rows),
                 "truncated": truncated, "limit": p.limit},
    )
