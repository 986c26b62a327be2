"""No JVM unless there is work: transform, aggregate and run decide from the Delta logs, the checkpoints and the
landing files whether anything is pending before Spark starts. Caught up, they finish without importing pyspark;
with new rows (or when the logs cannot tell) they run on Spark as before."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakectl.jobs import run_job

pytestmark = pytest.mark.spark


@pytest.fixture
def lake(ctx):
    """A lake where ingest, transform and aggregate have read everything there is."""
    run_job(ctx, "generate", {"events": 400, "seed": 3})
    for job, params in (("ingest", {"source": "files"}), ("transform", {}), ("aggregate", {})):
        run_job(ctx, job, params)
    return ctx


def test_caught_up_stages_and_run_finish_without_pyspark_and_match_sparks_answer(lake):
    from no_jvm import config_for, lakectl

    config = config_for(lake.settings.storage.root_dir)
    transform = lakectl("transform", "--json", config=config)
    assert transform.returncode == 0 and not transform.pyspark, transform.stderr
    doc = transform.json()
    assert doc["note"].startswith("nothing to do: no new rows in bronze.events") and doc["rows_written"] == 0
    assert doc["tables_written"] == [] and doc["batches"] == 0

    aggregate = lakectl("aggregate", "--json", config=config)
    assert aggregate.returncode == 0 and not aggregate.pyspark, aggregate.stderr
    doc = aggregate.json()
    assert "no Spark started" in doc["note"] and set(doc["modes"].values()) == {"skip"} and doc["rows_written"] == 0
    spark_answer = run_job(lake, "aggregate", {"full_refresh": False}).to_dict()  # a Spark run: the same figures
    assert spark_answer["kpi"] == doc["kpi"] and spark_answer["details"] == doc["details"]

    run = lakectl("run", "--json", config=config)
    assert run.returncode == 0 and not run.pyspark, run.stderr
    doc = run.json()
    assert [d["job"] for d in doc["details"]] == ["ingest", "transform", "aggregate"]
    assert all("(no Spark started)" in d["note"] for d in doc["details"]) and doc["rows_written_by_layer"] == {
        "bronze": 0,
        "silver": 0,
        "gold": 0,
    }


def test_new_rows_are_planned_from_the_log_and_still_run_on_spark(lake):
    from no_jvm import config_for, lakectl

    from lakectl.jobs.params import TransformParams
    from lakectl.jobs.transform import nothing_to_do

    run_job(lake, "generate", {"events": 150, "seed": 4})
    ingested = run_job(lake, "ingest", {"source": "files"})
    assert ingested.rows_written > 0
    assert nothing_to_do(lake, TransformParams()) is None
    planned = lakectl("transform", "--dry-run", "--json", config=config_for(lake.settings.storage.root_dir))
    assert planned.returncode == 0 and not planned.pyspark, planned.stderr  # the plan comes from the logs
    assert planned.json()["pending_bronze_rows"] == ingested.rows_written and planned.json()["dry_run"]
    transformed = run_job(lake, "transform", {})
    assert "note" not in transformed.metrics and transformed.rows_read == ingested.rows_written
    aggregated = run_job(lake, "aggregate", {})
    assert "note" not in aggregated.metrics and set(aggregated.metrics["modes"].values()) & {"incremental", "full"}
    assert nothing_to_do(lake, TransformParams()) is not None  # caught up again


def test_a_changed_dimension_file_or_a_batch_in_flight_leaves_it_to_spark(lake):
    from lakectl.jobs.params import TransformParams
    from lakectl.jobs.transform import checkpoint_dir, nothing_to_do

    assert nothing_to_do(lake, TransformParams()) is not None
    customers = next((Path(lake.settings.storage.landing_dir) / "customers").glob("*.json*"))
    stat = customers.stat()
    os.utime(customers, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert nothing_to_do(lake, TransformParams()) is None  # the file may hold changed customers
    os.utime(customers, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert nothing_to_do(lake, TransformParams()) is not None

    offsets = checkpoint_dir(lake, TransformParams()) / "offsets"
    last = max((offsets / "commits").glob("[0-9]*"), key=lambda f: int(f.name))
    last.rename(last.with_name("in-flight"))  # the last planned batch not committed: Spark must replay it
    assert nothing_to_do(lake, TransformParams()) is None
