"""query: run one read-only SQL statement against the lakehouse and return its rows.

Tables are addressed by their logical names (`gold.kpi_hourly`, `silver.events`, ...): each configured
table the statement mentions is registered as a view of that name, so BI-style SQL works unchanged.
Anything but SELECT / WITH / SHOW / DESCRIBE / EXPLAIN is refused before Spark starts (exit 2), and so
is a table name that does not exist (with a "did you mean").

Engine: SELECT / WITH over local tables on a local target runs on DuckDB over delta-rs (about a second,
no JVM); anything else, or `--engine spark`, runs on Spark. A statement DuckDB cannot parse or bind
(Spark-only syntax or functions) falls back to Spark with a warning; see docs/query.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Annotated, TYPE_CHECKING, Any, Literal

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


MAX_LIMIT = 2**31 - 1  # Spark's LIMIT takes a 32-bit int


class QueryParams(Model):
    sql: Annotated[str, Meta(min_length=1)]
    limit: Annotated[int, Meta(ge=0, le=MAX_LIMIT)] = 100  # 0 = no limit
    engine: Literal["auto", "duckdb", "spark"] = "auto"


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
    if words and words[0] not in READ_ONLY_FIRST and words[0] not in WRITE_WORDS:
        from lakectl.preflight import did_you_mean

        raise UsageError(f"SQL syntax error: a statement cannot start with {_WORD.findall(code)[0]!r}",
                         did_you_mean(words[0], sorted(READ_ONLY_FIRST)) or "start with SELECT, WITH, SHOW, DESCRIBE or EXPLAIN")
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


def check_table_names(ctx: JobContext, sql: str, keys: list[str]) -> None:
    """Before any engine starts: every schema.name in a known schema is a known table that exists."""
    from lakectl import preflight

    known = ctx.settings.table_keys()
    schemas = sorted({k.split(".")[0] for k in known}, key=len, reverse=True)
    code = _COMMENTS.sub(" ", _LITERALS.sub("''", sql))
    pattern = rf"(?<![\w.`])({'|'.join(map(re.escape, schemas))})\.([A-Za-z_][A-Za-z0-9_]*)"
    for m in re.finditer(pattern, code, re.I):
        name = f"{m.group(1)}.{m.group(2)}"
        if name.lower() not in {k.lower() for k in known}:
            raise TableNotFound(f"table {name} in the query does not exist",
                                preflight.did_you_mean(name, known) or f"known tables: {', '.join(known)}")
    for key in keys:
        preflight.require_table(ctx.settings, key)


def choose_engine(ctx: JobContext, p: QueryParams, sql: str, keys: list[str]) -> str:
    """duckdb for SELECT / WITH over local tables on a local target; spark otherwise or when asked."""
    if p.engine != "auto":
        return p.engine
    from lakectl import preflight
    from lakectl.settings import LocalTarget

    first = _WORD.findall(_COMMENTS.sub(" ", _LITERALS.sub("''", sql)))[:1]
    if not first or first[0].upper() not in {"SELECT", "WITH"}:
        return "spark"
    if not isinstance(ctx.target, LocalTarget) or ctx.settings.spark_catalog:
        return "spark"
    if not all(preflight.checkable(ctx.settings.table(k)) for k in keys):
        return "spark"
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "spark"
    return "duckdb"


def register_views(spark: "SparkSession", ctx: JobContext, keys: list[str]) -> None:
    """Make `schema.name` resolve to each configured table: a session-catalog view per table."""
    from lakectl.delta import is_delta_table
    from lakectl.sql import quote_ident, quote_name

    if ctx.settings.spark_catalog:
        spark.catalog.setCurrentCatalog(ctx.settings.spark_catalog)  # names resolve in the real catalog
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
    if isinstance(value, datetime) and value.tzinfo is not None:  # DuckDB's TIMESTAMPTZ: UTC like Spark's session
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
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
    check_table_names(ctx, sql, keys)
    engine = choose_engine(ctx, p, sql, keys)
    warnings: list[str] = []
    if engine == "duckdb":
        from lakectl.embedded.duck import NotForDuckDB, run_sql

        try:
            columns, rows = run_sql(ctx.settings, sql, keys, p.limit)
        except NotForDuckDB as exc:
            if p.engine == "duckdb":
                raise UsageError(f"DuckDB cannot run this query: {exc}", "use --engine spark (Spark SQL dialect)") from None
            warnings.append(f"ran on Spark because DuckDB could not: {exc}")
            engine = "spark"
    if engine == "spark":
        columns, rows = _spark_rows(ctx, sql, keys, p.limit)
    truncated = bool(p.limit) and len(rows) > p.limit
    rows = rows[: p.limit] if p.limit else rows
    return Result(
        job="query",
        rows_read=len(rows),
        tables_read=[ctx.settings.table(k).display for k in keys],
        warnings=warnings,
        metrics={"columns": columns, "rows": [[_plain(v) for v in r] for r in rows], "row_count": len(rows),
                 "truncated": truncated, "limit": p.limit, "engine": engine},
    )


def _spark_rows(ctx: JobContext, sql: str, keys: list[str], limit: int) -> tuple[list[str], list[Any]]:
    spark = ctx.spark
    register_views(spark, ctx, keys)
    df = spark.sql(sql)
    rows = (df.limit(limit + 1) if limit else df).collect()
    return df.columns, rows
