"""`lakectl lineage` on a Databricks target with a SQL warehouse: Unity Catalog's lineage system tables
(system.access.table_lineage, column_lineage) through the warehouse engine, answered by the contract server
with rows as the service records them (one per event, NULL sides, paths, old events, any order)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from typer.testing import CliRunner

from tests.databricks.conftest import CANARY, sdk_env

pytestmark = [pytest.mark.databricks, pytest.mark.spark]
C = "spark_catalog"  # the fake warehouse resolves catalogs in its local Spark session


def _events() -> tuple[list[dict], list[dict]]:
    from tests.databricks_fake.system_tables import event

    now = datetime.now(UTC).replace(microsecond=0)
    h = timedelta(hours=1)
    bronze, silver, gold = f"{C}.bronze.events", f"{C}.silver.events", f"{C}.gold.kpi_hourly"
    tables = [
        event(source=silver, target=gold, at=now - 2 * h, entity=("JOB", "103", "r-agg-2")),
        event(target=bronze, at=now - 5 * h, entity=("JOB", "101", "r-ing-1"), source_path="s3://landing/events"),
        event(source=bronze, target=silver, at=now - 4 * h, entity=("JOB", "102", "r-tr-1")),
        event(source=silver, target=gold, at=now - 3 * h, entity=("JOB", "103", "r-agg-1")),
        event(source=bronze, target=silver, at=now - h, entity=("JOB", "102", "r-tr-2")),
        event(source=silver, at=now - h / 2, entity=("DASHBOARD", "d-9", None)),  # a read: no target
        event(source=f"{C}.old.thing", target=gold, at=now - 400 * 24 * h, entity=("NOTEBOOK", "n-1", None)),  # past --days
        event(target=bronze, at=now - 6 * h, entity=("NOTEBOOK", "n-2", None)),  # a write that read no table
    ]

    def col(src: str, sc: str, dst: str, dc: str, at: datetime) -> dict:
        return event(source=src, target=dst, at=at, entity=("JOB", "x", "r"), source_column_name=sc, target_column_name=dc)

    columns = [col(bronze, c, silver, "revenue", now - k * h) for c in ("price", "quantity", "event_type") for k in (1, 4)]
    columns += [col(silver, "revenue", gold, "revenue", now - 2 * h), col(silver, "revenue", gold, "revenue", now - 3 * h)]
    columns += [
        col(silver, "customer_id", gold, "active_customers", now - 2 * h),
        col(bronze, "customer_id", silver, "customer_id", now - h),
    ]
    return tables, columns


@pytest.fixture
def config(tmp_path, fake, spark, monkeypatch):
    from tests.databricks_fake.system_tables import install
    from tests.databricks_fake.warehouse import spark_engine

    fake.warehouse = spark_engine(spark)
    install(fake.warehouse.session, *_events())
    sdk_env(monkeypatch, fake, tmp_path)
    path = tmp_path / "wh.yaml"
    dbx = {"kind": "databricks", "serverless": True, "poll_interval_s": 0.2}
    path.write_text(
        yaml.safe_dump(
            {
                "storage": {"root": str(tmp_path / "lake"), "catalog": C},
                "targets": {"local": {"kind": "local"}, "dbx": {**dbx, "warehouse_id": "abc123"}, "nowh": dbx},
            }
        )
    )
    return str(path)


def _lineage(config: str, *args: str, target: str = "dbx"):
    from lakectl.cli.app import app

    result = CliRunner().invoke(app, ["-c", config, "--target", target, "lineage", *args, "--json"])
    assert CANARY not in result.output
    return result


def test_upstream_with_columns_from_the_system_tables(fake, config):
    result = _lineage(config, "gold.kpi_hourly", "--upstream", "--columns")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["source"] == "system_tables" and doc["table"] == f"{C}.gold.kpi_hourly"
    assert [(t["table"], t["distance"]) for t in doc["tables"]] == [
        (f"{C}.bronze.events", -2),
        (f"{C}.silver.events", -1),
        (f"{C}.gold.kpi_hourly", 0),
    ]  # old.thing's event is 400 days old: not within --days 365
    writes = {t["table"]: (t["last_write"]["job"], t["last_write"]["run_id"]) for t in doc["tables"]}
    assert writes == {
        f"{C}.gold.kpi_hourly": ("job 103", "r-agg-2"),  # the latest of its runs
        f"{C}.silver.events": ("job 102", "r-tr-2"),
        f"{C}.bronze.events": ("job 101", "r-ing-1"),  # the ingest, not the older notebook write
    }
    assert doc["edges"] == [
        {"from": f"{C}.bronze.events", "to": f"{C}.silver.events", "job": "job 102"},
        {"from": f"{C}.silver.events", "to": f"{C}.gold.kpi_hourly", "job": "job 103"},
    ]
    revenue = next(c for c in doc["columns"] if c["column"] == "revenue")
    assert [(s["table"], s["column"]) for s in revenue["sources"]] == [(f"{C}.silver.events", "revenue")]
    assert {(o["table"], o["column"]) for o in revenue["origins"]} == {
        (f"{C}.bronze.events", c) for c in ("event_type", "price", "quantity")
    }
    assert doc["tables_read"] == ["system.access.table_lineage", "system.access.column_lineage"]

    statements = [r.body for r in fake.calls("POST", r"/sql/statements/?$")]
    assert {(s["warehouse_id"], s["catalog"]) for s in statements} == {("abc123", C)}
    texts = [s["statement"] for s in statements]
    assert sum("`system`.`access`.`table_lineage`" in t for t in texts) == 3  # one query per level walked
    assert sum("`system`.`access`.`column_lineage`" in t for t in texts) == 1
    assert not fake.calls("POST", r"/jobs/runs/submit$")  # no cluster for it


def test_downstream_and_an_unknown_table(fake, config):
    result = _lineage(config, "bronze.events", "--downstream")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert [(t["table"], t["distance"]) for t in doc["tables"]] == [
        (f"{C}.bronze.events", 0),
        (f"{C}.silver.events", 1),
        (f"{C}.gold.kpi_hourly", 2),
    ]
    missing = _lineage(config, "gold.nope")
    assert missing.exit_code == 2 and "no lineage for spark_catalog.gold.nope in system.access.table_lineage" in missing.output


def test_a_target_without_a_warehouse_is_refused_before_any_request(fake, config):
    result = _lineage(config, "gold.kpi_hourly", target="nowh")
    assert result.exit_code == 2 and "has no warehouse_id" in result.output, result.output
    assert not fake.requests
