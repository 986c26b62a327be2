"""Every stage is crash-safe: a run killed with SIGKILL (the whole process group, at a named step via
LAKECTL_KILL_AT) and then re-run leaves the same tables as an uninterrupted run on a copy of the same
input — no duplicate, no lost row — and ops.dq_metrics still adds up. One kill point per stage runs by
default; the others are `slow`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakectl.datagen.events import generate

pytestmark = [pytest.mark.spark, pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 2, tzinfo=UTC)
VOLATILE = {"run_id", "processed_time", "quarantined_at", "recorded_at", "ingest_time", "ingest_run_id", "record"}
SILVER = ("silver.events", "silver.reviews", "silver.quarantine", "silver.customers", "silver.products")
GOLD = ("gold.customer_behavior_daily", "gold.product_performance_daily", "gold.funnel_daily", "gold.kpi_hourly", "gold.sentiment_daily")


def config_for(root: Path) -> Path:
    """Small transform batches, so that a kill can fall between two committed batches."""
    cfg = root / "lakectl.yaml"
    cfg.write_text(
        json.dumps(
            {
                "storage": {"root": str(root / "lake")},
                "ingest": {"max_bytes_per_trigger": "300kb"},
                "transform": {"max_bytes_per_trigger": "60kb"},
                "targets": {"local": {"kind": "local", "shuffle_partitions": 2}},
            }
        )
    )
    return cfg


def context(root: Path, spark):
    from lakectl.config import load_settings
    from lakectl.engine.context import JobContext

    return JobContext(settings=load_settings(str(config_for(root))), _spark=spark)


@pytest.fixture(scope="module")
def bronze_lake(tmp_path_factory, spark) -> Path:
    """Two days of events with bad records and duplicates, ingested into bronze in three batches (three files)."""
    from lakectl.jobs import run_job

    root = tmp_path_factory.mktemp("crash-source")
    ctx = context(root, spark)
    generate(ctx.settings.storage.landing_dir, 2400, seed=5, start=START, days=2, bad_fraction=0.02, duplicate_fraction=0.03, file_rows=800)
    assert run_job(ctx, "ingest", {"source": "files"}).metrics["batches"] >= 3
    return root


def copy_lake(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "lake", dst / "lake")
    config_for(dst)
    return dst


def killed(root: Path, args: list[str], step: str) -> None:
    """Run a lakectl command in its own process group and let it be killed at `step`."""
    env = {**os.environ, "LAKECTL_KILL_AT": step, "LAKECTL_LEDGER": "off", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", "--config", str(root / "lakectl.yaml"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True,
    )
    assert proc.returncode == -9, f"not killed at {step}: exit {proc.returncode}\n{proc.stderr[-2000:]}"


def rows(spark, ctx, key: str) -> list[tuple] | None:
    path = Path(ctx.settings.table(key).path)
    if not (path / "_delta_log").is_dir():
        return None  # not created by either run (e.g. no row failed a silver rule)
    df = spark.read.format("delta").load(str(path))
    df = df.select(*sorted(c for c in df.columns if c not in VOLATILE))
    return sorted(tuple(str(v) for v in r) for r in df.collect())


def assert_same_tables(spark, a, b, keys) -> None:
    for key in keys:
        left, right = rows(spark, a, key), rows(spark, b, key)
        if left is None or right is None:
            assert left is right is None, f"{key} exists after only one of the two runs"
            continue
        assert len(left) == len(right), f"{key}: {len(left)} rows uninterrupted, {len(right)} after the kill"
        assert left == right, f"{key} differs after the kill and re-run"


def dq_totals(spark, ctx) -> dict[str, tuple[int, int]]:
    df = spark.read.format("delta").load(ctx.settings.table("ops.dq_metrics").path)
    return {
        r["rule"]: (r["c"], r["f"])
        for r in df.groupBy("rule")
        .agg({"rows_checked": "sum", "rows_failed": "sum"})
        .withColumnsRenamed({"sum(rows_checked)": "c", "sum(rows_failed)": "f"})
        .collect()
    }


@pytest.fixture(scope="module")
def uninterrupted(bronze_lake, tmp_path_factory, spark):
    """The reference: transform, aggregate and optimize run once each, without a kill."""
    from lakectl.jobs import run_job

    root = copy_lake(bronze_lake, tmp_path_factory.mktemp("crash-reference"))
    ctx = context(root, spark)
    assert run_job(ctx, "transform", {}).metrics["batches"] >= 2
    run_job(ctx, "aggregate", {})
    return ctx


TRANSFORM_POINTS = [
    "transform.after_silver_merge@2",
    pytest.param("transform.after_silver_merge", marks=pytest.mark.slow),
    pytest.param("transform.before_checkpoint_commit", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("step", TRANSFORM_POINTS)
def test_transform_killed_then_rerun_equals_uninterrupted(step, bronze_lake, uninterrupted, tmp_path, spark):
    from lakectl.jobs import run_job

    root = copy_lake(bronze_lake, tmp_path)
    killed(root, ["transform"], step)
    ctx = context(root, spark)
    run_job(ctx, "transform", {})
    assert_same_tables(spark, uninterrupted, ctx, SILVER)
    assert dq_totals(spark, ctx) == dq_totals(spark, uninterrupted)
    assert run_job(ctx, "transform", {}).rows_written == 0  # and nothing left to replay


@pytest.mark.parametrize("step", ["aggregate.before_state@2", pytest.param("aggregate.before_state@5", marks=pytest.mark.slow)])
def test_aggregate_killed_then_rerun_equals_uninterrupted(step, bronze_lake, uninterrupted, tmp_path, spark):
    from lakectl.jobs import run_job

    root = copy_lake(bronze_lake, tmp_path)
    ctx = context(root, spark)
    run_job(ctx, "transform", {})
    killed(root, ["aggregate"], step)
    run_job(ctx, "aggregate", {})
    assert_same_tables(spark, uninterrupted, ctx, GOLD)
    again = run_job(ctx, "aggregate", {})
    assert {d["mode"] for d in again.details} == {"skip"}


def test_optimize_killed_after_its_commit_then_rerun_keeps_every_row(uninterrupted, tmp_path, spark):
    from lakectl.jobs import run_job

    root = tmp_path
    shutil.copytree(Path(uninterrupted.settings.storage.root_dir), root / "lake")
    config_for(root)
    killed(root, ["optimize", "silver.events", "--zorder", "customer_id"], "optimize.after_optimize")
    ctx = context(root, spark)
    history = spark.sql(f"DESCRIBE HISTORY delta.`{ctx.settings.table('silver.events').path}`")
    assert history.where("operation = 'OPTIMIZE'").count() == 1  # the killed run's commit stands
    done = run_job(ctx, "optimize", {"tables": ["silver.events"], "zorder": ["customer_id"]})
    assert done.details[0]["files_after"] >= 1
    assert_same_tables(spark, uninterrupted, ctx, ("silver.events",))
