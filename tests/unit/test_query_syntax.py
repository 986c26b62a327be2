"""`lakectl query` reads the user's Spark SQL with sqlglot before any engine starts: a syntax error is one line with
its position, and a statement that ends in a keyword is an error (Spark reads `... WHERE` as a table alias)."""

from __future__ import annotations

import pytest

from lakectl.core.errors import UsageError
from lakectl.lake.spark_sql import parse


@pytest.mark.parametrize(
    "sql, where, what",
    [
        ("SELECT * FROM gold.kpi_hourly WHERE", "line 1, column 31", "ends in WHERE"),
        ("SELECT * FROM gold.kpi_hourly\nWHERE events > 1 AND", "line 2, column 18", "ends in AND"),
        ("SELECT event_type, count(*) FROM silver.events GROUP BY", "line 1, column 48", "ends in GROUP BY"),
        ("SELECT * FROM gold.kpi_hourly WHER events = 1", "line 1, column 36", "Unexpected token"),
        ("SELECT (1 + FROM gold.kpi_hourly", "line 1, column 13", "missing"),
    ],
)
def test_syntax_errors_name_their_position(sql, where, what):
    with pytest.raises(UsageError) as err:
        parse(sql)
    assert err.value.message.startswith(f"SQL syntax error at {where}") and what in err.value.message, err.value.one_line()
    assert ">>" in (err.value.hint or "")  # the hint shows the SQL around the error


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t WHERE kind = 'WHERE'",  # a keyword inside a literal
        "SELECT `where` FROM t AS `where`",  # a quoted name
        "SELECT * FROM t ORDER BY x DESC",
        "SELECT x FROM t -- trailing WHERE in a comment",
    ],
)
def test_statements_that_end_well_pass(sql):
    assert parse(sql).duckdb


def test_spark_functions_are_translated_for_duckdb():
    parsed = parse("SELECT nvl(a, 0), date_format(ts, 'yyyy-MM'), size(xs) FROM silver.events WHERE kind = \"view\"")
    assert (
        parsed.duckdb
        == "SELECT COALESCE(a, 0), STRFTIME(CAST(ts AS TIMESTAMP), '%Y-%m'), ARRAY_LENGTH(xs) FROM silver.events WHERE kind = 'view'"
    )


def test_cli_syntax_error_is_one_line_with_its_position_and_no_jvm(tmp_path):
    from no_jvm import config_for, lakectl

    config = config_for(tmp_path / "lake")
    for sql, where in (("SELECT * FROM gold.kpi_hourly WHERE", "column 31"), ("SELECT * FROM gold.kpi_hourly WHER x = 1", "column 36")):
        run = lakectl("query", sql, config=config)
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("lakectl: error: SQL syntax error at line 1, " + where) and "\n" not in run.stderr, run.stderr
        assert not run.pyspark
