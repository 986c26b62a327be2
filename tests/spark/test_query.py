"""lakectl query: read-only SQL over logical table names, a row limit, JSON rows, refusals with exit 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakectl.core.errors import UsageError
from lakectl.lake.query import check_read_only


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  with t as (select 1 as x) select * from t ;",
        "SHOW TABLES",
        "DESCRIBE gold.kpi_hourly",
        "EXPLAIN SELECT * FROM gold.kpi_hourly",
        "SELECT 'drop table x; insert' AS s",
        "SELECT `update` FROM t",
        "-- a comment\nSELECT 1 /* insert */",
    ],
)
def test_read_only_statements_pass(sql):
    assert check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO gold.kpi_hourly SELECT * FROM gold.kpi_hourly",
        "DROP TABLE gold.kpi_hourly",
        "WITH t AS (SELECT 1) INSERT INTO x SELECT * FROM t",
        "SELECT 1; DROP TABLE x",
        "DELETE FROM gold.kpi_hourly",
        "MERGE INTO a USING b ON a.x = b.x WHEN MATCHED THEN DELETE",
        "SET spark.sql.shuffle.partitions = 1",
        "",
        "  ;  ",
        "EXPLAIN INSERT INTO x SELECT 1",
        "OPTIMIZE gold.kpi_hourly",
        "CREATE OR REPLACE TABLE x AS SELECT 1",
    ],
)
def test_writes_and_multiple_statements_are_refused(sql):
    with pytest.raises(UsageError):
        check_read_only(sql)


def test_cli_refuses_a_write_with_exit_2_before_spark(tmp_path, monkeypatch):
    from lakectl.cli.app import app

    monkeypatch.setenv("LAKECTL_ROOT", str(tmp_path))
    result = CliRunner().invoke(app, ["--json", "query", "DELETE FROM gold.kpi_hourly"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout.splitlines()[0])
    assert doc["error"]["kind"] == "usage" and "read-only" in doc["error"]["message"]
    assert not (tmp_path / "logs").exists()  # no SparkSession was started for a refused statement


@pytest.mark.spark
def test_logical_names_limit_and_json_rows(ctx):
    from lakectl.jobs import run_job

    spark = ctx.spark
    rows = [(f"2026-03-01 {h:02d}:00:00", h * 10, h) for h in range(24)]
    spark.createDataFrame(rows, "h string, events long, orders long").selectExpr(
        "CAST(h AS TIMESTAMP) AS event_hour", "events", "CAST(orders * 1.5 AS DECIMAL(18,2)) AS revenue"
    ).write.format("delta").save(ctx.settings.table("gold.kpi_hourly").path)

    result = run_job(ctx, "query", {"sql": "SELECT event_hour, events, revenue FROM gold.kpi_hourly ORDER BY events DESC", "limit": 5})
    assert result.metrics["columns"] == ["event_hour", "events", "revenue"]
    assert [r[1] for r in result.metrics["rows"]] == [230, 220, 210, 200, 190]
    assert result.metrics["rows"][0][2] == 34.5 and result.metrics["rows"][0][0].startswith("2026-03-01T23:00")
    assert result.metrics["truncated"] is True and result.tables_read == ["gold.kpi_hourly"]
    json.dumps(result.to_dict())  # every value is JSON-serialisable

    agg = run_job(ctx, "query", {"sql": "select count(*) AS n, sum(events) AS e from GOLD.KPI_HOURLY"})
    assert agg.metrics["rows"] == [[24, sum(r[1] for r in rows)]] and agg.metrics["truncated"] is False


@pytest.mark.spark
def test_missing_table_is_a_clear_usage_error(ctx):
    from lakectl.core.errors import TableNotFound
    from lakectl.jobs import run_job

    with pytest.raises(TableNotFound, match="gold.funnel_daily"):
        run_job(ctx, "query", {"sql": "SELECT * FROM gold.funnel_daily"})
