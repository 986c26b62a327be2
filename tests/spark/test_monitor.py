"""monitor on real tables written by a real in-process ingest (Spark + Delta)."""

from __future__ import annotations

import msgspec
import pytest

from lakectl.jobs import run_job
from lakectl.lake.deltars import read_rows

pytestmark = pytest.mark.spark


def test_ingest_progress_streams_tables_and_ledger(ctx, spark, tmp_path):
    landing = ctx.settings.storage.landing_dir
    run_job(ctx, "generate", {"events": 1500, "bad_fraction": 0.02, "seed": 7})
    ingest = run_job(ctx, "ingest", {"source": "files"})
    assert ingest.rows_written > 0

    progress = read_rows(ctx.settings.table("ops.stream_progress").path)
    assert progress and {p["stream"] for p in progress} == {"files"}
    assert sum(p["num_input_rows"] for p in progress) == ingest.rows_read
    assert all(p["run_id"] == ctx.run_id and p["duration_ms"] > 0 for p in progress)

    streams = run_job(ctx, "monitor", {"action": "streams"}).details
    (files,) = streams
    assert files["stream"] == "files" and files["state"] == "stopped" and files["backlog_files"] == 0
    assert files["last_batch_id"] == max(p["batch_id"] for p in progress) and files["last_batch_time"]
    assert files["processed_rows_per_second"] is not None and files["batch_duration_ms"] > 0

    # New files land: the stream is behind by exactly those files until the next ingest.
    before = {f.name for f in (landing / "events").iterdir()}
    run_job(ctx, "generate", {"events": 300, "seed": 8, "start": "2026-01-02T00:00:00"})
    new_files = {f.name for f in (landing / "events").iterdir()} - before
    assert new_files
    assert run_job(ctx, "monitor", {"action": "streams"}).details[0]["backlog_files"] == len(new_files)
    ctx.settings.tables["bronze.events"] = msgspec.structs.replace(
        ctx.settings.table("bronze.events").config,
        sla=msgspec.structs.replace(ctx.settings.table("bronze.events").config.sla, max_lag_records=0),
    )
    check = run_job(ctx, "monitor", {"action": "check", "alert": False})
    assert check.status == "breach" and check.details[0]["name"] == "max_lag_records:bronze.events:files"

    # Table health from the log agrees with Spark.
    tables = {d["table"]: d for d in run_job(ctx, "monitor", {"action": "tables"}).details}
    bronze = ctx.settings.table("bronze.events")
    assert tables["bronze.events"]["rows"] == spark.read.format("delta").load(bronze.path).count() == ingest.rows_written
    assert tables["bronze.quarantine"]["rows"] == ingest.rows_quarantined > 0
    assert tables["bronze.events"]["version"] == spark.sql(f"DESCRIBE HISTORY {bronze.ref}").agg({"version": "max"}).first()[0]

    # The ledger written by delta-rs is readable by Spark (protocol compatible) and has every run.
    runs = spark.read.format("delta").load(ctx.settings.table("ops.runs").path)
    by_command = {r["command"]: r for r in runs.collect() if r["command"] == "ingest"}
    assert by_command["ingest"]["status"] == "ok" and by_command["ingest"]["rows_out"] == ingest.rows_written
    assert runs.count() == len(read_rows(ctx.settings.table("ops.runs").path)) >= 3
    assert not [r for r in runs.collect() if r["command"] == "monitor"], "read-only commands stay out of the ledger"
    assert spark.read.format("delta").load(ctx.settings.table("ops.stream_progress").path).count() == len(progress)

    quality = run_job(ctx, "monitor", {"action": "quality"}).metrics["quarantine"]
    bq = next(q for q in quality if q["table"] == "bronze.quarantine")
    assert bq["rows"] == ingest.rows_quarantined == sum(v["rows_added"] for v in bq["per_version"])
