"""Which targets address tables by path when storage.catalog is set, and a registration that cannot reach
the catalog: a warning naming the table and the fix, never a failed run (no Spark: the table is written
with delta-rs). The registration itself against the real server: tests/integration/test_catalog_autoregister.py."""

from __future__ import annotations

import socket

import pyarrow as pa
import pytest

from lakectl.config import settings_from_dict
from lakectl.core.errors import ConfigError
from lakectl.core.results import Result
from lakectl.engine.context import JobContext
from lakectl.governance.autoregister import start


def _settings(tmp_path, **extra):
    return settings_from_dict({"storage": {"root": str(tmp_path), "catalog": "lake"}, **extra}, "<test>")


def test_a_local_target_addresses_tables_by_path_unless_its_spark_has_the_catalog(tmp_path):
    targets = {
        "local": {"kind": "local"},
        "uc": {"kind": "local", "spark_conf": {"spark.sql.catalog.lake": "some.Catalog"}},
        "dbx": {"kind": "databricks", "serverless": True},
    }
    s = _settings(tmp_path, targets=targets)
    local = JobContext(settings=s).settings.table("bronze.events")
    assert local.ref == f"delta.`{local.path}`" and local.display == "lake.bronze.events" and local.spark_catalog is None
    for name in ("uc", "dbx"):
        assert JobContext(settings=s, target_name=name).settings.table("bronze.events").ref == "`lake`.`bronze`.`events`"
    plain = settings_from_dict({"storage": {"root": str(tmp_path)}}, "<test>")
    assert JobContext(settings=plain).settings is plain  # no catalog: nothing changes
    with pytest.raises(ConfigError, match="tables_by_path: unknown key"):
        settings_from_dict({"tables_by_path": True}, "<test>")


def test_an_unreachable_catalog_leaves_the_table_written_and_warns_with_the_fix(tmp_path):
    from deltalake import write_deltalake

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = tmp_path / "token.txt"
    token.write_text("t0ken")
    ctx = JobContext(settings=_settings(tmp_path, grant={"url": f"http://127.0.0.1:{port}", "auth_file": str(token), "timeout_s": 2}))
    registrar = start(ctx)
    assert registrar is not None and start(ctx) is None  # a stage inside the run gets none: the outer run registers
    path = ctx.settings.table("bronze.events").path
    write_deltalake(path, pa.table({"event_id": ["e1"]}))
    result = Result(job="ingest")
    registrar.finish(result)
    [warning] = result.warnings
    assert warning.startswith("lake.bronze.events created but not registered in catalog lake: ")
    assert "unreachable" in warning and "lakectl grant register bronze.events" in warning
    assert result.status == "ok" and "catalog_registered" not in result.metrics
    again = Result(job="ingest")
    registrar.finish(again)  # looked at once: no second attempt, no second warning
    assert again.warnings == []


def test_no_catalog_no_registrar(tmp_path):
    assert start(JobContext(settings=settings_from_dict({"storage": {"root": str(tmp_path)}}, "<test>"))) is None
    dbx = _settings(tmp_path, targets={"dbx": {"kind": "databricks", "serverless": True}}, default_target="dbx")
    assert start(JobContext(settings=dbx)) is None  # Databricks creates its tables in the catalog itself
