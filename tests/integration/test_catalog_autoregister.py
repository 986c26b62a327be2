"""With storage.catalog set on a local target, lakectl's jobs keep addressing their Delta tables by path and
register each table they create in the real Unity Catalog server (scripts/uc-local) as an EXTERNAL table
at its storage path, once, so that `grant` can name it."""

from __future__ import annotations

import uuid

import pytest

from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job

pytestmark = [pytest.mark.spark, pytest.mark.uc]


def test_first_creation_registers_bronze_in_the_catalog_once_and_grant_can_name_it(spark, uc_server, tmp_path):
    cat = f"auto_{uuid.uuid4().hex[:8]}"
    admin = uc_server.admin()
    admin.user("ana@example.com")
    policy = tmp_path / "grants.yaml"
    settings = settings_from_dict(
        {
            "storage": {"root": str(tmp_path / "lake"), "catalog": cat},
            "grant": {"url": uc_server.url, "auth_file": str(uc_server.token_file), "policy": str(policy)},
        },
        "<test>",
    )
    ctx = JobContext(settings=settings, _spark=spark)
    bronze = ctx.settings.table("bronze.events")
    assert bronze.ref.startswith("delta.`") and bronze.display == f"{cat}.bronze.events"  # Spark: by path, as without a catalog
    # someone registered bronze.quarantine elsewhere already: lakectl warns and leaves it alone
    admin.catalog(cat)
    admin.schema(cat, "bronze")
    elsewhere = (tmp_path / "elsewhere").as_uri()
    admin.table(cat, "bronze", "quarantine", elsewhere)

    run_job(ctx, "generate", {"events": 200, "seed": 3, "bad_fraction": 0.05})
    first = run_job(ctx, "ingest", {"source": "files"})
    assert first.status == "ok" and first.rows_written > 0  # the write is whole whatever the registration does
    assert f"{cat}.bronze.events" in first.metrics["catalog_registered"]
    [warning] = first.warnings
    assert f"{cat}.bronze.quarantine is already registered at another location" in warning and "lakectl grant register" in warning

    table = admin.call("GET", f"/api/2.1/unity-catalog/tables/{cat}.bronze.events")
    assert table["table_type"] == "EXTERNAL" and table["data_source_format"] == "DELTA"
    assert table["storage_location"].rstrip("/") == tmp_path.joinpath("lake", "tables", "bronze", "events").as_uri()
    assert [c["name"] for c in table["columns"]] == spark.read.format("delta").load(bronze.path).columns
    assert admin.call("GET", f"/api/2.1/unity-catalog/tables/{cat}.bronze.quarantine")["storage_location"].rstrip("/") == elsewhere
    assert admin.call("GET", f"/api/2.1/unity-catalog/tables/{cat}.ops.runs")["table_type"] == "EXTERNAL"  # the ledger's table too

    # a second run: the tables exist before it, so nothing is looked up, registered or warned about
    run_job(ctx, "generate", {"events": 100, "seed": 4})
    second = run_job(ctx, "ingest", {"source": "files"})
    assert second.rows_written > 0 and second.warnings == [] and "catalog_registered" not in second.metrics
    assert admin.call("GET", f"/api/2.1/unity-catalog/tables/{cat}.bronze.events")["table_id"] == table["table_id"]

    policy.write_text(
        f"principals: {{users: [ana@example.com]}}\ntables:\n  {cat}.bronze.events: {{grants: {{ana@example.com: [SELECT]}}}}\n"
    )
    plan = run_job(ctx, "grant", {"action": "plan"})
    assert plan.metrics["to_add"] == 1 and plan.metrics["changes"][0]["securable"] == f"{cat}.bronze.events"
    assert run_job(ctx, "grant", {"action": "apply"}).metrics["changes_applied"] == 1
    assert admin.grants("table", f"{cat}.bronze.events") == {"ana@example.com": ["SELECT"]}
