"""Tables are created with their schema and the policy's table properties before the first write
(issue 16 item 3), not only after `lakectl optimize`: through lakectl.lake.delta.ensure_table, the same
on local and Connect sessions."""

from __future__ import annotations

import pytest

from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job

pytestmark = pytest.mark.spark

POLICY = {
    "bronze.events": {"delta.autoOptimize.optimizeWrite": "true", "delta.autoOptimize.autoCompact": "true"},
    "silver.events": {
        "delta.autoOptimize.optimizeWrite": "true",
        "delta.checkpointInterval": "7",
        "delta.dataSkippingStatsColumns": "event_id,event_time,customer_id",
    },
    "ops.dq_metrics": {"delta.checkpointInterval": "20"},
    "gold.kpi_hourly": {"delta.autoOptimize.optimizeWrite": "true"},
}


def props(spark, ctx: JobContext, key: str) -> dict[str, str]:
    return spark.sql(f"DESCRIBE DETAIL {ctx.settings.table(key).ref}").first()["properties"]


def test_every_stage_creates_its_tables_with_the_policy_properties(spark, tmp_path):
    settings = settings_from_dict(
        {"storage": {"root": str(tmp_path / "lake")}, "tables": {k: {"optimize": {"properties": v}} for k, v in POLICY.items()}}, "<test>"
    )
    ctx = JobContext(settings=settings, _spark=spark)
    run_job(ctx, "generate", {"events": 300, "seed": 4})

    run_job(ctx, "ingest", {"source": "files"})
    assert POLICY["bronze.events"].items() <= props(spark, ctx, "bronze.events").items()
    # created up front even though no record was bad: readers and optimize find it with its schema
    assert "reason" in spark.read.format("delta").load(settings.table("bronze.quarantine").path).columns

    run_job(ctx, "transform", {})
    silver = props(spark, ctx, "silver.events")
    assert POLICY["silver.events"].items() <= silver.items()
    assert silver["delta.enableChangeDataFeed"] == "true"  # aggregate reads silver's change feed
    assert POLICY["ops.dq_metrics"].items() <= props(spark, ctx, "ops.dq_metrics").items()
    history = spark.sql(f"DESCRIBE HISTORY {settings.table('silver.events').ref}").orderBy("version").collect()
    assert history[0]["operation"] == "CREATE TABLE AS SELECT" and history[0]["operationMetrics"].get("numOutputRows", "0") == "0"

    run_job(ctx, "aggregate", {})
    assert POLICY["gold.kpi_hourly"].items() <= props(spark, ctx, "gold.kpi_hourly").items()  # kept by the overwrite

    again = run_job(ctx, "optimize", {"tables": ["silver.events"]})
    assert "properties_set" not in again.details[0]  # nothing left for optimize to set


def test_ensure_table_creates_once_and_quotes_the_path(spark, tmp_path):
    from lakectl.lake.delta import ensure_table, properties

    settings = settings_from_dict(
        {
            "storage": {"root": str(tmp_path / "it's `odd`")},
            "tables": {"ops.review_scores": {"optimize": {"properties": {"delta.appendOnly": "true"}}}},
        },
        "<test>",
    )
    handle = settings.table("ops.review_scores")
    schema = "event_id string, score double, label string, model_version string"
    assert ensure_table(spark, handle, schema) is True
    assert ensure_table(spark, handle, schema) is False
    assert properties(spark, handle.path) == {"delta.appendOnly": "true"}
    assert spark.read.format("delta").load(handle.path).columns == ["event_id", "score", "label", "model_version"]
