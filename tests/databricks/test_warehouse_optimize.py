"""`lakectl optimize` on a Databricks target with a SQL warehouse: maintenance as SQL statements.

The fake's warehouse runs each statement on the local Spark + Delta session (so OPTIMIZE, the
properties and VACUUM really change the table); the Databricks-only statements (bloom filter index,
ANALYZE ... COMPUTE DELTA STATISTICS) are checked against their documented grammar and recorded, not run.
"""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from tests.databricks.conftest import CANARY, sdk_env

pytestmark = [pytest.mark.databricks, pytest.mark.spark]
REF = "`spark_catalog`.`whopt`.`events`"


@pytest.fixture
def events(spark, tmp_path):
    """whopt.events: a Delta table written in several small files."""
    spark.sql("CREATE DATABASE IF NOT EXISTS whopt")
    spark.sql(
        f"CREATE OR REPLACE TABLE whopt.events (id BIGINT, country STRING, amount DOUBLE) USING delta LOCATION '{tmp_path / 'events'}'"
    )
    for i in range(4):
        spark.sql(f"INSERT INTO whopt.events VALUES ({i}, 'DE', {i}.5), ({i + 10}, 'FR', 1.0)")
    yield "whopt.events"
    spark.sql("DROP TABLE IF EXISTS whopt.events")
    spark.sql("DROP DATABASE IF EXISTS whopt CASCADE")


@pytest.fixture
def engine(fake, spark):
    from tests.databricks_fake.warehouse import spark_engine

    fake.warehouse = spark_engine(spark)
    return fake.warehouse


@pytest.fixture
def config(tmp_path, fake, engine, monkeypatch):
    sdk_env(monkeypatch, fake, tmp_path)
    path = tmp_path / "wh.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "storage": {"root": str(tmp_path / "lake"), "catalog": "spark_catalog"},
                "tables": {
                    "whopt.events": {
                        "optimize": {
                            "zorder_by": ["country"],
                            "bloom_filter_columns": ["id"],
                            "properties": {"delta.appendOnly": "false", "delta.logRetentionDuration": "interval 30 days"},
                        }
                    }
                },
                "targets": {
                    "local": {"kind": "local"},
                    "dbx": {"kind": "databricks", "serverless": True, "warehouse_id": "abc123", "poll_interval_s": 0.2},
                },
            }
        )
    )
    return str(path)


def _optimize(config: str, target: str, *args: str) -> dict:
    from lakectl.cli.app import app

    result = CliRunner().invoke(app, ["-c", config, "--target", target, "optimize", *args, "--json"])
    assert CANARY not in result.output
    return {"exit_code": result.exit_code, **json.loads(result.stdout.strip().splitlines()[-1])}


def _statements(fake) -> list[dict]:
    return [r.body for r in fake.calls("POST", r"/sql/statements/?$")]


def _files(spark) -> int:
    return spark.sql("DESCRIBE DETAIL whopt.events").first()["numFiles"]


def test_optimize_runs_as_statements_on_the_warehouse(fake, engine, config, events, spark):
    n = _files(spark)
    assert n >= 4
    doc = _optimize(config, "dbx", "whopt.events", "--analyze")
    assert doc["exit_code"] == 0, doc
    bloom = f"CREATE BLOOMFILTER INDEX ON TABLE {REF} FOR COLUMNS(`id` OPTIONS (fpp=0.1, numItems=50000000))"
    props = f"ALTER TABLE {REF} SET TBLPROPERTIES ('delta.appendOnly' = 'false', 'delta.logRetentionDuration' = 'interval 30 days')"
    changes = [props, f"OPTIMIZE {REF} ZORDER BY (`country`)", f"ANALYZE TABLE {REF} COMPUTE DELTA STATISTICS", bloom]
    sent = _statements(fake)
    assert [b["statement"] for b in sent] == [f"DESCRIBE DETAIL {REF}", f"SELECT * FROM {REF} LIMIT 0", *changes, f"DESCRIBE DETAIL {REF}"]
    assert all(b["warehouse_id"] == "abc123" and b["catalog"] == "spark_catalog" and "parameters" not in b for b in sent)
    assert engine.not_run == changes[2:]  # the Databricks-only ones: grammar checked, recorded, not run here
    assert not fake.calls("POST", r"/jobs/runs/submit$")
    [d] = doc["details"]
    assert d["statements"] == changes and d["files_before"] == n and d["files_after"] == 1 == _files(spark)
    assert d["files_removed"] == n and d["files_added"] == 1 and d["conflicts_retried"] == 0
    assert d["properties_set"] == {"delta.appendOnly": "false", "delta.logRetentionDuration": "interval 30 days"}
    props_now = spark.sql("DESCRIBE DETAIL whopt.events").first()["properties"]
    assert props_now["delta.logRetentionDuration"] == "interval 30 days"
    assert doc["files_before"] == n and doc["files_after"] == 1 and doc["tables"] == 1
    assert not any("Databricks-only" in w for w in doc["warnings"])

    local = _optimize(config, "local", "whopt.events", "--analyze")  # same shape and keys as the local job
    assert local["exit_code"] == 0
    assert set(local) == set(doc)
    assert set(local["details"][0]) == set(d) - {"properties_set"}  # a re-run has nothing left to set
    assert local["details"][0]["statements"] == [f"OPTIMIZE {REF} ZORDER BY (`country`)"]


def test_dry_run_prints_the_statements_and_changes_nothing(fake, engine, config, events, spark):
    n = _files(spark)
    doc = _optimize(config, "dbx", "whopt.events", "--dry-run", "--vacuum")
    assert doc["exit_code"] == 0 and doc["status"] == "dry_run"
    [d] = doc["details"]
    assert d["action"] == "would optimize" and d["statements"][1] == f"OPTIMIZE {REF} ZORDER BY (`country`)"
    assert d["vacuum_would_delete"] == 0 and d["vacuum_retain_hours"] == 168
    assert [b["statement"] for b in _statements(fake)] == [
        f"DESCRIBE DETAIL {REF}",
        f"SELECT * FROM {REF} LIMIT 0",
        f"VACUUM {REF} RETAIN 168 HOURS DRY RUN",
    ]
    assert _files(spark) == n and engine.not_run == []


def test_vacuum_keeps_the_retention_guard(fake, engine, config, events, spark):
    short = _optimize(config, "dbx", "whopt.events", "--vacuum", "--retain", "1h")
    assert short["exit_code"] == 2 and "shorter than the table's" in short["error"]["message"]
    forced = _optimize(config, "dbx", "whopt.events", "--vacuum", "--retain", "1h", "--force")
    assert forced["exit_code"] == 2 and "cannot run on a SQL warehouse" in forced["error"]["message"]
    assert all(not b["statement"].startswith(("VACUUM", "OPTIMIZE", "ALTER")) for b in _statements(fake))
    assert spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled", "true") == "true"
    ok = _optimize(config, "dbx", "whopt.events", "--vacuum", "--retain", "200h")
    assert ok["exit_code"] == 0, ok
    sent = [b["statement"] for b in _statements(fake)]
    assert f"VACUUM {REF} RETAIN 200 HOURS DRY RUN" in sent and f"VACUUM {REF} RETAIN 200 HOURS" in sent
    assert sent[-1] == f"DESCRIBE HISTORY {REF} LIMIT 1"
    assert ok["details"][0]["vacuum_deleted"] == 0  # the compacted files are younger than 200h


def test_sql_errors_map_to_exit_codes(fake, engine, config, events, spark):
    missing = _optimize(config, "dbx", "whopt.nope")
    assert missing["exit_code"] == 2 and missing["error"]["kind"] == "table_not_found"
    assert "\n" not in missing["error"]["message"]
    bad = _optimize(config, "dbx", "whopt.events", "--where", "no_such_column = 1")
    assert bad["exit_code"] == 2 and "refused the statement" in bad["error"]["message"]

    calls = {"n": 0}

    def conflicting(statement, params, catalog, schema):  # a concurrent writer wins the first OPTIMIZE
        if statement.startswith("OPTIMIZE") and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added to the root of the table")
        return engine(statement, params, catalog, schema)

    fake.warehouse = conflicting
    doc = _optimize(config, "dbx", "whopt.events")
    assert doc["exit_code"] == 0 and doc["details"][0]["conflicts_retried"] == 1, doc
    assert doc["details"][0]["conflicts"] == ["ConcurrentAppendException"] and calls["n"] == 1


def test_statement_states_map_to_lakectl_errors():
    from lakectl.engine.warehouse import statement_error

    assert statement_error("FAILED", "TEMPORARILY_UNAVAILABLE", "warehouse starting").exit_code == 4
    assert statement_error("FAILED", "INTERNAL_ERROR", "boom\ntrace").exit_code == 1
    assert statement_error("CANCELED", None, None).exit_code == 1
    assert statement_error("FAILED", "BAD_REQUEST", "[DELTA_CONCURRENT_APPEND] x").exit_code == 1
    err = statement_error("FAILED", "BAD_REQUEST", "[TABLE_OR_VIEW_NOT_FOUND] The table `a`.`b` cannot be found.\nmore")
    assert err.kind == "table_not_found" and "\n" not in err.message


def test_query_reads_every_result_chunk(fake, engine, config, events):
    fake.chunk_rows = 3
    from lakectl.cli.app import app

    result = CliRunner().invoke(app, ["-c", config, "--target", "dbx", "query", "SELECT id FROM whopt.events ORDER BY id", "--json"])
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == 0 and doc["rows"] == [[i] for i in (0, 1, 2, 3, 10, 11, 12, 13)]
    chunks = fake.calls("GET", r"/sql/statements/[^/]+/result/chunks/\d+$")
    assert [c.path.rsplit("/", 1)[-1] for c in chunks] == ["1", "2"]
