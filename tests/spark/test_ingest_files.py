from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakectl.core.errors import CheckpointConflict, SourceUnavailable
from lakectl.datagen.events import generate
from lakectl.jobs import run_job

pytestmark = pytest.mark.spark
START = datetime(2026, 11, 2, tzinfo=UTC)


def valid_ids(landing: Path) -> set[str]:
    ids = set()
    for f in (landing / "events").glob("*.jsonl"):
        for line in f.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if (
                rec.get("event_id")
                and rec.get("event_type") in {"page_view", "click", "add_to_cart", "purchase", "review"}
                and not isinstance(rec.get("price"), str)
                and not isinstance(rec.get("quantity"), str)
                and rec.get("event_time") not in ("N/A", "twelve", "yesterday", "1O.5")
            ):
                ids.add(rec["event_id"])
    return ids


def test_ingest_files_exactly_once_with_quarantine(ctx, spark):
    landing = ctx.settings.storage.landing_dir
    g = generate(landing, 4000, seed=11, start=START, bad_fraction=0.03, file_rows=1000)
    first = run_job(ctx, "ingest", {"source": "files"})
    assert first.rows_written == g.valid_events
    assert first.rows_quarantined == g.bad_records > 0
    assert first.rows_read == g.events
    assert first.tables_written == ["bronze.events", "bronze.quarantine"]

    bronze = spark.read.format("delta").load(ctx.settings.table("bronze.events").path)
    ids = [r.event_id for r in bronze.select("event_id").collect()]
    assert len(ids) == len(set(ids)) and set(ids) == valid_ids(landing)
    sample = bronze.where("event_type = 'purchase'").first()
    assert sample.price > 0 and sample.source == "files" and sample.source_file.endswith(".jsonl") and sample.raw.startswith("{")

    quarantine = spark.read.format("delta").load(ctx.settings.table("bronze.quarantine").path)
    reasons = {r.reason.split(":")[0] for r in quarantine.select("reason").distinct().collect()}
    assert reasons <= {"malformed_json", "missing_event_id", "unknown_event_type", "type_mismatch", "missing_event_time"}
    assert {"malformed_json", "missing_event_id", "unknown_event_type"} <= {r.split(",")[0] for r in reasons}

    again = run_job(ctx, "ingest", {"source": "files"})
    assert again.rows_written == 0 and again.rows_quarantined == 0
    assert again.tables_written == []  # nothing to do: "wrote" lists no table (issue 31, item 3)

    more = generate(landing, 500, seed=12, start=START, file_rows=1000)
    third = run_job(ctx, "ingest", {"source": "files"})
    assert third.rows_written == more.valid_events == 500
    assert third.tables_written == ["bronze.events"]  # no bad record: the quarantine got no rows


def test_dry_run_writes_nothing(ctx):
    generate(ctx.settings.storage.landing_dir, 100, seed=1, start=START)
    r = run_job(ctx, "ingest", {"source": "files", "dry_run": True})
    assert r.dry_run and r.rows_written == 0
    assert not Path(ctx.settings.table("bronze.events").path).exists()


def test_missing_landing_folder_is_source_unavailable(ctx):
    with pytest.raises(SourceUnavailable) as e:
        run_job(ctx, "ingest", {"source": "files", "path": str(ctx.settings.storage.root_dir / "nowhere")})
    assert e.value.exit_code == 4 and "nowhere" in e.value.message


def test_checkpoint_of_another_source_is_refused(ctx, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, 50, seed=1, start=START)
    generate(b, 50, seed=2, start=START)
    checkpoint = str(tmp_path / "cp")
    run_job(ctx, "ingest", {"source": "files", "path": str(a / "events"), "checkpoint": checkpoint})
    with pytest.raises(CheckpointConflict) as e:
        run_job(ctx, "ingest", {"source": "files", "path": str(b / "events"), "checkpoint": checkpoint})
    assert e.value.exit_code == 6


def test_replayed_batch_still_quarantines_what_its_crash_lost(ctx, spark):
    """A crash between the bronze commit and the quarantine commit: on the replay Delta skips the
    bronze append unread, so its bad-record count is unknown and the batch is parsed again for them."""
    import shutil

    g = generate(ctx.settings.storage.landing_dir, 1000, seed=13, start=START, bad_fraction=0.05, file_rows=1000)
    first = run_job(ctx, "ingest", {"source": "files"})
    assert first.rows_quarantined == g.bad_records > 0
    commits = ctx.settings.storage.checkpoints_dir / "ingest" / "files" / "offsets" / "commits"
    (commits / "0").unlink()
    (commits / ".0.crc").unlink(missing_ok=True)
    shutil.rmtree(ctx.settings.table("bronze.quarantine").path)

    replay = run_job(ctx, "ingest", {"source": "files"})
    assert (replay.rows_written, replay.rows_quarantined) == (0, g.bad_records)
    assert spark.read.format("delta").load(ctx.settings.table("bronze.events").path).count() == g.valid_events


def test_a_batch_replayed_between_its_two_commits_is_completed_once(ctx, spark):
    """A crash after a batch's bronze commit but before its quarantine commit: Spark replays the batch.
    Bronze must skip it (already committed) and the quarantine must get its bad rows, once."""
    import shutil

    landing = ctx.settings.storage.landing_dir
    g = generate(landing, 1500, seed=31, start=START, bad_fraction=0.04, file_rows=1500)
    first = run_job(ctx, "ingest", {"source": "files"})
    assert first.metrics["batches"] == 1 and first.rows_quarantined == g.bad_records > 0
    bronze_path = ctx.settings.table("bronze.events").path
    bronze_version = max(int(f.name[:20]) for f in (Path(bronze_path) / "_delta_log").glob("*.json"))
    # as if the process died between the two commits: no quarantine commit, no batch commit
    shutil.rmtree(ctx.settings.table("bronze.quarantine").path)
    checkpoint = Path(first.metrics["checkpoint"])
    for name in ("0", ".0.crc"):
        (checkpoint / "offsets" / "commits" / name).unlink(missing_ok=True)

    replay = run_job(ctx, "ingest", {"source": "files"})
    assert replay.rows_written == 0 and replay.rows_quarantined == g.bad_records
    assert max(int(f.name[:20]) for f in (Path(bronze_path) / "_delta_log").glob("*.json")) == bronze_version
    quarantine = spark.read.format("delta").load(ctx.settings.table("bronze.quarantine").path)
    assert quarantine.count() == g.bad_records
    assert spark.read.format("delta").load(bronze_path).count() == g.valid_events


def test_a_backlog_is_ingested_and_transformed_in_bounded_batches(tmp_path, spark):
    """A byte budget per micro-batch splits one backlog into several batches, and every row still
    arrives exactly once (a 10M-event backlog read as one batch once stopped Spark in a 2g driver)."""
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext

    settings = settings_from_dict(
        {
            "storage": {"root": str(tmp_path / "lake")},
            "ingest": {"max_bytes_per_trigger": "400kb"},
            "transform": {"max_bytes_per_trigger": "150kb"},
        },
        "<test>",
    )
    ctx = JobContext(settings=settings, _spark=spark)
    g = generate(settings.storage.landing_dir, 3000, seed=21, start=START, bad_fraction=0.01, file_rows=500)
    landing_bytes = sum(f.stat().st_size for f in (settings.storage.landing_dir / "events").glob("*.jsonl"))
    dry = run_job(ctx, "ingest", {"source": "files", "dry_run": True})
    assert dry.metrics["batch_limit"] == {"maxBytesPerTrigger": str(400 * 1024)}

    ingest = run_job(ctx, "ingest", {"source": "files"})
    assert ingest.metrics["batches"] >= landing_bytes // (400 * 1024) >= 2
    assert ingest.rows_written == g.valid_events and ingest.rows_quarantined == g.bad_records
    bronze = settings.table("bronze.events").path
    assert spark.read.format("delta").load(bronze).select("event_id").distinct().count() == g.valid_events
    commits = spark.sql(f"DESCRIBE HISTORY delta.`{bronze}`").where("operation = 'WRITE' OR operation = 'STREAMING UPDATE'").count()
    assert commits == ingest.metrics["batches"]

    transform = run_job(ctx, "transform", {})
    silver = spark.read.format("delta").load(settings.table("silver.events").path)
    assert transform.metrics["batches"] >= 2
    assert silver.count() == silver.select("event_id").distinct().count() == transform.rows_written


def test_files_per_trigger_replaces_the_byte_budget(settings):
    """Spark refuses maxFilesPerTrigger and maxBytesPerTrigger on one file source: a configured file
    count wins, else the byte budget (an eighth of the local driver's memory by default)."""
    from lakectl.config import settings_from_dict
    from lakectl.lake.batch_size import micro_batch_bytes
    from lakectl.pipeline.sources.files import batch_limit

    assert batch_limit(settings, 123) == {"maxBytesPerTrigger": "123"}
    capped = settings_from_dict({"sources": {"files": {"max_files_per_trigger": 7}}})
    assert batch_limit(capped, 123) == {"maxFilesPerTrigger": "7"}
    one_g = settings_from_dict({"targets": {"local": {"kind": "local", "driver_memory": "1g"}}})
    assert micro_batch_bytes(None, one_g.target("local")) == 128 * 1024**2
    assert micro_batch_bytes("64m", one_g.target("local")) == 64 * 1024**2
