"""The engine seam: JobContext hands out the engine that fits the target, and jobs decide by its capabilities.

No JVM here: the Spark and warehouse engines are made but never asked to run a statement (neither starts a
session or a client until then); DuckDB over delta-rs is real, on Delta tables delta-rs writes.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.core.errors import ConfigError, UsageError
from lakectl.engine.context import JobContext

TABLE = "shop.orders"


def _settings(tmp_path: Path, **extra):
    return settings_from_dict(
        {
            "storage": {"root": str(tmp_path / "lake"), **extra.pop("storage", {})},
            "tables": {TABLE: {"optimize": {"zorder_by": ["country"], "bloom_filter_columns": ["id"]}}},
            "targets": {
                "local": {"kind": "local"},
                "cluster": {"kind": "spark", "remote": "sc://127.0.0.1:1"},
                "dbx": {"kind": "databricks", "serverless": True, "warehouse_id": "wh-1", "host": "http://127.0.0.1:1"},
                "dbx_jobs": {"kind": "databricks", "serverless": True, "host": "http://127.0.0.1:1"},
            },
            **extra,
        },
        "<seam-test>",
    )


@pytest.fixture
def orders(tmp_path):
    """shop.orders written by delta-rs in two commits (two files)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    settings = _settings(tmp_path)
    path = settings.table(TABLE).path
    write_deltalake(path, pa.table({"id": [1, 2, 3], "country": ["DE", "FR", "DE"]}))
    write_deltalake(path, pa.table({"id": [4], "country": ["US"]}), mode="append")
    return settings


def test_the_context_hands_out_spark_for_local_and_connect_without_starting_a_session(tmp_path, monkeypatch):
    from lakectl.engine.spark import spark_capabilities

    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    local = JobContext(settings=_settings(tmp_path))
    assert local.engine.name == "spark" and local.engine.capabilities == spark_capabilities(connect=False, databricks=False)
    assert local.engine.capabilities.plan_metrics == "jvm" and not local.engine.capabilities.batches_on_server
    connect = JobContext(settings=_settings(tmp_path), target_name="cluster")
    caps = connect.engine.capabilities
    assert caps.batches_on_server and caps.plan_metrics == "connect" and caps.session_settings and caps.local_files
    assert not local.has_spark and not connect.has_spark  # nothing reached for a JVM or the (unreachable) server
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "16.4")
    assert JobContext(settings=_settings(tmp_path)).engine.capabilities.databricks_sql


def test_a_databricks_target_with_a_warehouse_gets_the_warehouse_outside_a_cluster(tmp_path):
    settings = _settings(tmp_path, storage={"catalog": "main"})
    ctx = JobContext(settings=settings, target_name="dbx")
    engine = ctx.engine
    assert engine.name == "warehouse" and engine.catalog == "main" and engine.labels == {"warehouse_id": "wh-1"}
    caps = engine.capabilities
    assert caps.databricks_sql and caps.catalog_names and caps.writes
    assert not (caps.session_settings or caps.dataframes or caps.plan_metrics or caps.local_files or caps.batches_on_server)
    assert engine._client is None  # no request before the first statement
    # inside the Databricks run the runtime's own Spark session is the engine, warehouse or not
    assert JobContext(settings=settings, target_name="dbx", on_cluster=True).engine.name == "spark"
    assert JobContext(settings=settings, target_name="dbx_jobs", on_cluster=True).engine.name == "spark"
    with pytest.raises(ConfigError, match="storage.catalog is not set"):
        JobContext(settings=_settings(tmp_path), target_name="dbx").engine


def test_a_context_travels_to_a_connect_server_without_its_engines(tmp_path):
    ctx = JobContext(settings=_settings(tmp_path, storage={"catalog": "main"}), target_name="dbx")
    assert ctx.engine.name == "warehouse"  # made (it holds a lock and, later, a client: neither pickles)
    copy = pickle.loads(pickle.dumps(ctx))
    assert copy.run_id == ctx.run_id and "engine" not in copy.__dict__
    assert copy.engine.name == "warehouse"  # made again where it is asked for


def test_engines_without_session_settings_refuse_them(tmp_path):
    settings = _settings(tmp_path, storage={"catalog": "main"})
    for engine in (JobContext(settings=settings, target_name="dbx").engine, JobContext(settings=settings).duckdb):
        with engine.with_settings({}) as same:
            assert same is engine
        with pytest.raises(ValueError, match="no per-statement session settings"):
            with engine.with_settings({"spark.databricks.delta.retentionDurationCheck.enabled": "false"}):
                pass


def test_duckdb_answers_from_the_delta_log_and_the_snapshot(orders):
    engine = JobContext(settings=orders).duckdb
    handle = orders.table(TABLE)
    assert engine.exists(handle) and not engine.exists(orders.table("shop.missing"))
    detail = engine.detail(handle)
    assert detail["numFiles"] == 2 and detail["sizeInBytes"] > 0 and detail["id"] and detail["properties"] == {}
    assert engine.detail(orders.table("shop.missing")) is None
    assert engine.columns(handle) == ["id", "country"]
    assert [h["version"] for h in engine.history(handle)] == [1, 0] and len(engine.history(handle, 1)) == 1
    answer = engine.query("SELECT id FROM shop.orders ORDER BY id", limit=3, tables=[TABLE])
    assert answer.columns == ["id"] and [r[0] for r in answer.rows] == [1, 2, 3] and answer.truncated
    whole = engine.query("SELECT count(*) AS n FROM shop.orders WHERE country = $c", {"c": "DE"}, tables=[TABLE])
    assert whole.rows == [(2,)] and not whole.truncated
    assert engine.rows("SELECT 1 AS one") == [{"one": 1}]


def _optimize_dry_run(settings, engine, **params):
    from lakectl.jobs import optimize

    ctx = JobContext(settings=settings)
    ctx.__dict__["engine"] = engine  # the cached engine: what JobContext.engine would have handed out
    return optimize.run(ctx, {"tables": [TABLE], "dry_run": True, **params})


def test_optimize_plans_by_capabilities_not_by_target(orders):
    """One job, one table, one target: flipping the engine's capabilities changes the plan (the plan is built
    from DESCRIBE DETAIL and the columns, which DuckDB over delta-rs answers; a dry run runs no statement)."""
    engine = JobContext(settings=orders).duckdb
    oss = _optimize_dry_run(orders, engine, analyze=True, target_file_size="64mb")
    ref = orders.table(TABLE).ref
    [d] = oss.details
    assert d["statements"] == [f"OPTIMIZE {ref} ZORDER BY (`country`)"]
    assert d["files_before"] == 2 and d["action"] == "would optimize"
    assert any("--analyze" in w and "Databricks-only" in w for w in oss.warnings)
    assert any("bloom filter index on id is Databricks-only" in w for w in oss.warnings)
    assert any("target file size is a session setting that DuckDB does not take" in w for w in oss.warnings)

    engine.capabilities = dataclasses.replace(engine.capabilities, databricks_sql=True, session_settings=True)
    dbx = _optimize_dry_run(orders, engine, analyze=True, target_file_size="64mb")
    assert dbx.details[0]["statements"] == [
        f"OPTIMIZE {ref} ZORDER BY (`country`)",
        f"ANALYZE TABLE {ref} COMPUTE DELTA STATISTICS",
        f"CREATE BLOOMFILTER INDEX ON TABLE {ref} FOR COLUMNS(`id` OPTIONS (fpp=0.1, numItems=50000000))",
    ]
    assert dbx.warnings == []


def test_optimize_refuses_what_the_engine_cannot_do_before_any_statement(orders):
    engine = JobContext(settings=orders).duckdb
    with pytest.raises(UsageError, match="does not run on DuckDB"):
        _optimize_dry_run(orders, engine, advise=True)
    with pytest.raises(UsageError, match="shorter than the table's cannot run on DuckDB"):
        _optimize_dry_run(orders, engine, vacuum=True, retain="1h", force=True)


def test_jobs_ask_capabilities_never_the_target_kind():
    jobs = Path(__file__).resolve().parents[2] / "lakectl" / "jobs"
    pattern = re.compile(r"is_connect|\.kind ==|isinstance\([^)]*(Local|Spark|Databricks)Target")
    found = [
        f"{p.name}:{n}" for p in sorted(jobs.glob("*.py")) for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)
    ]
    assert found == []
