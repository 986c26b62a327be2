"""Spark's errors get a hint that fits: a typo'd table name is not 'run the stage first', a syntax
error is not an analysis error. Exception types are matched by name, as PySpark raises them."""

from __future__ import annotations

import pytest

from lakectl.core.errors import translate


class AnalysisException(Exception):
    pass


class ParseException(Exception):
    pass


@pytest.mark.parametrize(
    "exc, kind, message, hint",
    [
        (
            AnalysisException("[TABLE_OR_VIEW_NOT_FOUND] The table or view `evnts` cannot be found."),
            "table_not_found",
            "table not found",
            "tables are schema.name",
        ),
        (
            AnalysisException("[PATH_NOT_FOUND] Path does not exist: /lake/tables/gold/kpi_hourly."),
            "table_not_found",
            "table not found",
            "run the stage that creates it first",
        ),
        (
            AnalysisException(
                "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column `evnt` cannot be resolved. Did you mean one of the following? [`event`]"
            ),
            "usage",
            "unknown column",
            "Spark lists the columns",
        ),
        (
            ParseException("[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)"),
            "usage",
            "SQL syntax error",
            "near the position",
        ),
    ],
)
def test_spark_errors_get_a_fitting_hint(exc, kind, message, hint):
    err = translate(exc)
    assert err.kind == kind and err.exit_code == 2
    assert err.message.startswith(message) and hint in (err.hint or "")
