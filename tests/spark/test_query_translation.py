"""`lakectl query` runs Spark SQL on DuckDB after translating it (sqlglot), with the rows Spark returns; reads a table
with deletion vectors without a JVM; and says so when a statement still needs Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

# Spark SQL functions DuckDB spells differently (or lacks): sqlglot translates them.
TRANSLATED = [
    "SELECT date_format(event_hour, 'yyyy-MM-dd HH') AS h, nvl(orders, 0) AS o FROM gold.kpi_hourly ORDER BY event_hour LIMIT 5",
    "SELECT to_date(event_hour) AS d, count(*) AS n, sum(events) AS e FROM gold.kpi_hourly GROUP BY to_date(event_hour) ORDER BY d",
    "SELECT instr(kind, 'ur') AS i, size(split(kind, 'r')) AS parts, concat_ws('-', kind, kind) AS k FROM gold.kpi_hourly "
    "ORDER BY event_hour LIMIT 3",
    "SELECT date_trunc('DAY', event_hour) AS d, collect_list(events)[0] AS first_events FROM gold.kpi_hourly "
    'WHERE kind = "purchase" GROUP BY 1 ORDER BY 1',
    "SELECT datediff(to_date(max(event_hour)), to_date(min(event_hour))) AS days, if(sum(events) > 10, 'many', 'few') AS v "
    "FROM gold.kpi_hourly",
]


@pytest.fixture
def gold(ctx):
    rows = [
        (f"2026-03-0{1 + h // 24} {h % 24:02d}:00:00", h * 10, h if h % 5 else None, "purchase" if h % 2 else "view") for h in range(48)
    ]
    ctx.spark.createDataFrame(rows, "h string, events long, orders long, kind string").selectExpr(
        "CAST(h AS TIMESTAMP) AS event_hour", "events", "orders", "kind"
    ).write.format("delta").save(ctx.settings.table("gold.kpi_hourly").path)
    return ctx


@pytest.mark.parametrize("sql", TRANSLATED)
def test_spark_sql_functions_run_on_duckdb_with_sparks_rows(gold, sql):
    from lakectl.jobs import run_job

    duck = run_job(gold, "query", {"sql": sql})
    spark = run_job(gold, "query", {"sql": sql, "engine": "spark"})
    assert duck.metrics["engine"] == "duckdb" and not duck.warnings, duck.warnings
    assert spark.metrics["engine"] == "spark"
    assert duck.metrics["rows"] == spark.metrics["rows"] and duck.metrics["rows"]


def test_what_duckdb_cannot_run_goes_to_spark_and_says_so(gold):
    from lakectl.jobs import run_job

    result = run_job(gold, "query", {"sql": "SELECT format_number(sum(events), 1) AS e FROM gold.kpi_hourly"})
    assert result.metrics["engine"] == "spark" and result.metrics["rows"] == [["11,280.0"]]
    assert [w for w in result.warnings if w.startswith("ran on Spark (a JVM start) because DuckDB could not")], result.warnings


def test_a_table_with_deletion_vectors_is_read_without_spark(ctx):
    """delta-rs' Arrow dataset refuses the deletionVectors reader feature; its DataFusion reader applies them."""
    from deltalake import DeltaTable

    from lakectl.jobs import run_job

    path = ctx.settings.table("silver.events").path
    ctx.spark.range(100).selectExpr("id AS n", "CAST(id % 3 AS STRING) AS kind").write.format("delta").option(
        "delta.enableDeletionVectors", "true"
    ).save(path)
    ctx.spark.sql(f"DELETE FROM delta.`{path}` WHERE n % 10 = 0")
    assert "deletionVectors" in (DeltaTable(path).protocol().reader_features or [])
    log = Path(path) / "_delta_log"
    assert any('"deletionVector":{' in f.read_text() for f in log.glob("*.json"))  # the DELETE wrote one
    sql = "SELECT kind, count(*) AS n, sum(n) AS s FROM silver.events GROUP BY kind ORDER BY kind"
    duck = run_job(ctx, "query", {"sql": sql})
    spark = run_job(ctx, "query", {"sql": sql, "engine": "spark"})
    assert duck.metrics["engine"] == "duckdb" and not duck.warnings, duck.warnings
    assert duck.metrics["rows"] == spark.metrics["rows"]
    assert sum(r[1] for r in duck.metrics["rows"]) == 90  # the ten deleted rows stay deleted
