"""The user's Spark SQL, read with sqlglot before any engine starts: a syntax error, or a statement that ends in a
keyword, is one line with its position in milliseconds (no JVM); a statement that parses is translated to DuckDB's
dialect, so Spark SQL functions (date_format, nvl, collect_list, ...) run in process. Only what sqlglot cannot
translate, or DuckDB cannot run, is left to Spark, and the caller says so.

Spark reads `SELECT * FROM t WHERE` as a table aliased `WHERE` and returns every row; here it is an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakectl.core.errors import UsageError

# Words after which a statement cannot end (a clause or an operand is missing). ASC, DESC, NULLS FIRST/LAST,
# END and the like end statements legitimately and are not here.
DANGLING = {
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "FROM",
    "JOIN",
    "ON",
    "USING",
    "BY",
    "GROUP",
    "ORDER",
    "HAVING",
    "SELECT",
    "LIMIT",
    "OFFSET",
    "AS",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "MINUS",
    "WITH",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "IN",
    "IS",
    "LIKE",
    "ILIKE",
    "RLIKE",
    "BETWEEN",
    "DISTINCT",
    "ALL",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "CROSS",
    "SEMI",
    "ANTI",
    "NATURAL",
    "LATERAL",
    "WINDOW",
    "OVER",
    "PARTITION",
    "QUALIFY",
}
PARSED_FIRST = {"SELECT", "WITH"}  # statements sqlglot reads here; SHOW / DESCRIBE / EXPLAIN go to the engine as written


@dataclass(frozen=True)
class Statement:
    """A read-only statement as the user wrote it (Spark SQL) and, when sqlglot could translate it, as DuckDB SQL."""

    spark: str
    duckdb: str | None
    untranslatable: str | None = None  # why there is no DuckDB text


def check_ending(sql: str) -> None:
    """UsageError when the statement's last word is a keyword that needs something after it (`... WHERE`)."""
    tokens = _tokens(sql)
    if not tokens:
        return
    last = tokens[-1]
    from sqlglot.tokens import TokenType

    if last.token_type in (TokenType.STRING, TokenType.IDENTIFIER):  # 'where' and `where` are a value and a name
        return
    word = " ".join(last.text.upper().split())  # "GROUP BY" is one token
    if word.split()[-1] in DANGLING:
        raise UsageError(
            f"SQL syntax error at line {last.line}, column {_start_col(last)}: the statement ends in {word}",
            f"complete the {word} clause or remove it: {_context(sql, last)}",
        )


def parse(sql: str) -> Statement:
    """Check `sql` (one read-only statement) and translate it to DuckDB; UsageError with the position of the first
    syntax error. Statements sqlglot does not read here (SHOW, DESCRIBE, EXPLAIN) pass through untranslated."""
    check_ending(sql)
    tokens = _tokens(sql)
    if not tokens or tokens[0].text.upper() not in PARSED_FIRST:
        return Statement(sql, None, "not a SELECT or WITH statement")
    import sqlglot
    from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

    try:
        tree = sqlglot.parse_one(sql, read="spark")
    except ParseError as exc:
        raise _syntax_error(exc) from None
    try:
        return Statement(sql, tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE))
    except UnsupportedError as exc:
        return Statement(sql, None, str(exc).splitlines()[0][:200])


def _tokens(sql: str) -> list[Any]:
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError

    try:
        tokens = Dialect.get_or_raise("spark").tokenize(sql)
    except TokenError as exc:  # an unclosed quote or comment
        raise UsageError(f"SQL syntax error: {str(exc).splitlines()[0][:200]}", "close the quote or comment") from None
    from sqlglot.tokens import TokenType

    return [t for t in tokens if t.token_type is not TokenType.SEMICOLON]


def _start_col(token: Any) -> int:  # noqa: ANN401 - a sqlglot Token
    """The 1-based column where the token starts (sqlglot keeps where it ends)."""
    return max(1, int(token.col) - len(token.text) + 1)


def _context(sql: str, token: Any) -> str:  # noqa: ANN401
    start = int(token.start)
    return f"{_tail(sql[:start])}>>{sql[start : int(token.end) + 1]}<<"


def _tail(text: str, width: int = 40) -> str:
    """The end of `text`, at most `width` characters, starting at a word."""
    if len(text) <= width:
        return text.lstrip()
    cut = text[-width:]
    return cut[cut.find(" ") + 1 :] if " " in cut else cut


def _syntax_error(exc: Any) -> UsageError:  # noqa: ANN401 - a sqlglot ParseError
    first = (exc.errors or [{}])[0]
    line, col = first.get("line"), first.get("col")
    highlight = (first.get("highlight") or "").strip()
    where = f" at line {line}, column {max(1, int(col) - len(highlight) + 1)}" if line and col else ""
    near = f"{_tail(first.get('start_context') or '')}>>{highlight}<<{(first.get('end_context') or '')[:20]}"
    description = str(first.get("description") or exc).splitlines()[0]
    return UsageError(f"SQL syntax error{where}: {_plain(description)}", f"check the SQL near: {near.strip()}")


def _plain(description: str) -> str:
    """sqlglot's messages name its classes ("Required keyword: 'this' missing for <class '...Where'>"): say what is missing."""
    import re

    m = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", description)
    if m:
        return f"{m.group(2).upper()} is missing its {'expression' if m.group(1) in ('this', 'expressions') else m.group(1)}"
    return description
