"""`lakectl query` reads every table a demo creates without a JVM (the shipped config gives silver.events deletion
vectors), with the row counts Spark reads. The full demo (train and score too) is checked the same way in tests/e2e."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.spark
REPO = Path(__file__).resolve().parents[2]


def test_query_reads_every_demo_table_without_a_jvm(spark, tmp_path, monkeypatch):
    from deltalake import DeltaTable
    from no_jvm import query_every_table

    from lakectl.config import load_settings
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    root, config = tmp_path / "lake", REPO / "configs" / "lakectl.yaml"
    monkeypatch.setenv("LAKECTL_ROOT", str(root))
    ctx = JobContext(settings=load_settings(config), _spark=spark)
    run_job(ctx, "demo", {"events": 2000})  # train and score skipped: too few reviews
    events = ctx.settings.table("silver.events").path
    assert "deletionVectors" in (DeltaTable(events).protocol().reader_features or [])

    counts = query_every_table(ctx.settings.storage.tables_dir, env={"LAKECTL_ROOT": str(root), "LAKECTL_CONFIG": str(config)})
    assert {"bronze.events", "silver.events", "silver.reviews", "gold.kpi_hourly", "ops.runs"} <= set(counts)
    assert counts == {t: spark.read.format("delta").load(ctx.settings.table(t).path).count() for t in counts}
    assert counts["silver.events"] > 0
