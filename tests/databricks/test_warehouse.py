"""`lakectl query` on a Databricks target with a SQL warehouse: Statement Execution API, parameters bound."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from tests.databricks.conftest import CANARY, sdk_env

pytestmark = [pytest.mark.databricks, pytest.mark.spark]


@pytest.fixture
def sales(spark, tmp_path):
    """A Delta table whtest.sales in the local session's catalog (the fake warehouse's engine)."""
    spark.sql("CREATE DATABASE IF NOT EXISTS whtest")
    spark.sql(
        f"CREATE OR REPLACE TABLE whtest.sales (country STRING, amount DOUBLE, units INT) USING delta LOCATION '{tmp_path / 'sales'}'"
    )
    spark.sql("INSERT INTO whtest.sales VALUES ('DE', 10.5, 1), ('DE', 4.5, 2), ('FR', 20.0, 3), ('US', NULL, 4)")
    yield "whtest.sales"
    spark.sql("DROP TABLE IF EXISTS whtest.sales")
    spark.sql("DROP DATABASE IF EXISTS whtest")


@pytest.fixture
def config(tmp_path, fake, spark, monkeypatch):
    from tests.databricks_fake.warehouse import spark_engine

    fake.warehouse = spark_engine(spark)
    sdk_env(monkeypatch, fake, tmp_path)
    path = tmp_path / "wh.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "storage": {"root": str(tmp_path / "lake"), "catalog": "spark_catalog"},
                "tables": {"whtest.sales": {}},
                "targets": {
                    "local": {"kind": "local"},
                    "dbx": {"kind": "databricks", "serverless": True, "warehouse_id": "abc123", "poll_interval_s": 0.2},
                },
            }
        )
    )
    return str(path)


def _query(config: str, target: str, sql: str, *extra: str) -> dict:
    from lakectl.cli.app import app

    result = CliRunner().invoke(app, ["-c", config, "--target", target, "query", sql, "--json", *extra])
    assert CANARY not in result.output
    return {"exit_code": result.exit_code, **json.loads(result.stdout.strip().splitlines()[-1])}


def test_query_on_the_warehouse_returns_what_local_returns(fake, config, sales):
    sql = "SELECT country, SUM(amount) AS total, SUM(units) AS units FROM whtest.sales GROUP BY country ORDER BY country"
    remote = _query(config, "dbx", sql)
    local = _query(config, "local", sql)
    assert remote["exit_code"] == local["exit_code"] == 0
    assert remote["columns"] == local["columns"] == ["country", "total", "units"]
    assert remote["rows"] == local["rows"] == [["DE", 15.0, 3], ["FR", 20.0, 3], ["US", None, 4]]
    assert remote["tables_read"] == ["spark_catalog.whtest.sales"] and remote["warehouse_id"] == "abc123"
    [req] = fake.calls("POST", r"/sql/statements/?$")
    assert req.body["statement"] == sql and req.body["warehouse_id"] == "abc123" and req.body["catalog"] == "spark_catalog"
    assert not fake.calls("POST", r"/jobs/runs/submit$")  # no cluster for SQL


def test_limit_truncates_and_writes_are_refused_before_any_request(fake, config, sales):
    doc = _query(config, "dbx", "SELECT * FROM whtest.sales ORDER BY units", "--limit", "2")
    assert doc["rows"] == [["DE", 10.5, 1], ["DE", 4.5, 2]] and doc["truncated"] is True
    refused = _query(config, "dbx", "DELETE FROM whtest.sales")
    assert refused["exit_code"] == 2 and len(fake.calls("POST", r"/sql/statements/?$")) == 1


def test_a_sql_error_is_one_line_and_exit_2(fake, config, sales):
    doc = _query(config, "dbx", "SELECT nope FROM whtest.sales")
    assert doc["exit_code"] == 2 and "refused the statement" in doc["error"]["message"]


def test_values_are_bound_as_named_parameters(fake, config, sales):
    from lakectl.config import load_settings
    from lakectl.engine.warehouse import WarehouseEngine

    target = load_settings(config).target("dbx")
    engine = WarehouseEngine(target, catalog=None)
    hostile = "DE' OR '1'='1"
    columns, rows, _ = engine.execute(
        "SELECT units FROM whtest.sales WHERE country = :c OR amount >= :min ORDER BY units", parameters={"c": hostile, "min": 20.0}
    )
    assert rows == [[3]] and columns == [("units", "INT")]
    body = fake.calls("POST", r"/sql/statements/?$")[-1].body
    assert body["parameters"] == [{"name": "c", "value": hostile, "type": "STRING"}, {"name": "min", "value": "20.0", "type": "DOUBLE"}]
    assert hostile not in body["statement"]
