"""Read-only SQL over the lakehouse by logical table names (`gold.kpi_hourly`): the statement is checked
(one read-only statement, known tables that exist) before any engine starts, then runs on DuckDB over
delta-rs (no JVM) or on the context's engine (Spark, or a SQL warehouse), each table visible under its
logical name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.suggest import did_you_mean

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext
    from lakectl.engine.protocol import SqlEngine

READ_ONLY_FIRST = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"}
# Words that make a statement write or change session state, wherever they appear outside literals
# (e.g. `WITH x AS (...) INSERT INTO ...`).
WRITE_WORDS = {
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "DROP",
    "CREATE",
    "ALTER",
    "TRUNCATE",
    "REPLACE",
    "OPTIMIZE",
    "VACUUM",
    "RESTORE",
    "COPY",
    "GRANT",
    "REVOKE",
    "SET",
    "RESET",
    "CACHE",
    "UNCACHE",
    "REFRESH",
    "LOAD",
    "MSCK",
    "USE",
    "ADD",
    "CLONE",
    "CALL",
    "EXECUTE",
}
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`]|``)*`", re.S)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
        raise UsageError(
            f"SQL syntax error: a statement cannot start with {_WORD.findall(code)[0]!r}",
            did_you_mean(words[0], sorted(READ_ONLY_FIRST)) or "start with SELECT, WITH, SHOW, DESCRIBE or EXPLAIN",
        )
    if not words or words[0] not in READ_ONLY_FIRST:
        raise UsageError(
            f"refusing {words[0] if words else 'this statement'}: lakectl query is read-only", "use SELECT, WITH, SHOW, DESCRIBE or EXPLAIN"
        )
    writes = sorted(set(words) & WRITE_WORDS)
    if writes:
        raise UsageError(
            f"refusing a statement containing {', '.join(writes)}: lakectl query is read-only",
            "quote a column of that name with backticks, or use another lakectl command to change data",
        )
    return sql


def mentioned_tables(ctx: JobContext, sql: str) -> list[str]:
    """Configured table keys (schema.name) that the statement mentions, outside literals and comments."""
    code = _COMMENTS.sub(" ", _LITERALS.sub("''", sql)).lower()
    return [key for key in ctx.settings.table_keys() if re.search(rf"(?<![\w.`]){re.escape(key.lower())}(?![\w`])", code)]


def check_table_names(ctx: JobContext, sql: str, keys: list[str]) -> None:
    """Before any engine starts: every schema.name in a known schema is a known table that exists."""
    from lakectl.lake import preflight

    known = ctx.settings.table_keys()
    schemas = sorted({k.split(".")[0] for k in known}, key=len, reverse=True)
    code = _COMMENTS.sub(" ", _LITERALS.sub("''", sql))
    pattern = rf"(?<![\w.`])({'|'.join(map(re.escape, schemas))})\.([A-Za-z_][A-Za-z0-9_]*)"
    for m in re.finditer(pattern, code, re.I):
        name = f"{m.group(1)}.{m.group(2)}"
        if name.lower() not in {k.lower() for k in known}:
            raise TableNotFound(
                f"table {name} in the query does not exist", did_you_mean(name, known) or f"known tables: {', '.join(known)}"
            )
    for key in keys:
        preflight.require_table(ctx.settings, key)


def choose_engine(ctx: JobContext, engine: str, sql: str, keys: list[str]) -> tuple[str, str | None]:
    """(engine, why not DuckDB): duckdb for SELECT / WITH over local tables on a local target, or when asked; else
    the context's engine (Spark, or the SQL warehouse, which reads the catalog's tables rather than this machine's
    files), with the reason when a local statement goes to Spark."""
    if not ctx.engine.capabilities.local_files:
        return ctx.engine.name, None
    if engine != "auto":
        return engine, None
    from lakectl.config import LocalTarget
    from lakectl.lake import preflight

    first = _WORD.findall(_COMMENTS.sub(" ", _LITERALS.sub("''", sql)))[:1]
    if not first or first[0].upper() not in {"SELECT", "WITH"}:
        return "spark", f"DuckDB runs SELECT and WITH here, not {first[0].upper() if first else 'this statement'}"
    if not isinstance(ctx.target, LocalTarget) or ctx.settings.spark_catalog:
        return "spark", None  # the target's own Spark: what it was chosen for
    if not all(preflight.checkable(ctx.settings.table(k)) for k in keys):
        return "spark", "a table is not a local path DuckDB can read"
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "spark", "DuckDB is not installed"
    return "duckdb", None


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:  # DuckDB's TIMESTAMPTZ: UTC like Spark's session
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "asDict"):
        return plain(value.asDict())
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


@dataclass
class Answer:
    columns: list[str]
    rows: list[Any]  # at most `limit`
    truncated: bool  # `limit` cut the rows
    engine: str  # duckdb | spark | warehouse
    labels: dict[str, Any]  # what the Result says about where it ran
    tables: list[str] = field(default_factory=list)  # schema.name keys the statement read
    warnings: list[str] = field(default_factory=list)


def read_only(ctx: JobContext, statement: str, *, limit: int, engine: str = "auto") -> Answer:
    """Check and run one read-only statement; DuckDB when it can (engine auto), else the context's engine.
    Before any engine starts: the statement is read-only, parses as Spark SQL (sqlglot; `--engine spark` leaves
    parsing to Spark, except a statement that ends in a keyword) and names tables that exist."""
    from lakectl.lake.spark_sql import Statement, check_ending, parse

    sql = check_read_only(statement)  # a refused statement costs nothing
    if engine == "spark":
        check_ending(sql)
        parsed = Statement(sql, None, "--engine spark")
    else:
        parsed = parse(sql)
    keys = mentioned_tables(ctx, sql)
    if not ctx.engine.capabilities.catalog_names:  # names resolve among lakectl's tables: check them first
        check_table_names(ctx, sql, keys)
    chosen, why = choose_engine(ctx, engine, sql, keys)
    warnings: list[str] = []
    if chosen == "duckdb":
        from lakectl.engine.duck import NotForDuckDB

        try:
            if parsed.duckdb is None:
                raise NotForDuckDB(f"no DuckDB translation: {parsed.untranslatable}")
            return _answer(ctx.duckdb, parsed.duckdb, keys, limit, warnings)
        except NotForDuckDB as exc:
            if engine == "duckdb":
                raise UsageError(f"DuckDB cannot run this query: {exc}", "use --engine spark (Spark SQL dialect)") from None
            why = f"DuckDB could not: {exc}"
    if why and ctx.engine.name == "spark":
        warnings.append(f"ran on Spark (a JVM start) because {why}")
    return _answer(ctx.engine, sql, keys, limit, warnings)


def _answer(engine: SqlEngine, sql: str, keys: list[str], limit: int, warnings: list[str]) -> Answer:
    columns, rows, truncated = engine.query(sql, limit=limit, tables=keys)
    return Answer(columns, rows, truncated, engine.name, engine.labels, keys, warnings)
