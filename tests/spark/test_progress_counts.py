"""Every figure an operator reads counts each row once (issue 33): the rows in a stream's progress lines,
its stop line and ops.stream_progress add up to the rows it read and committed, per table, for ingest
(continuous and available-now) and transform (whose batch is read three times: Spark said 3x the truth).
score's case is in tests/spark/test_ml.py. In-process on the shared session; the stop is a real SIGINT."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from datetime import UTC, datetime

import pytest

from lakectl.core.errors import Interrupted
from lakectl.datagen.events import generate
from lakectl.jobs import run_job

pytestmark = pytest.mark.spark
START = datetime(2026, 11, 2, tzinfo=UTC)
LINE = re.compile(r"^lakectl: (\S+) batch (\d+): ([\d,]+) rows in [\d.]+s \([\d,]+ rows/s\)(?:, committed (.*?))?(?:, lag .*)?$")
STOP = re.compile(r"stopped by SIGINT after (\d+) batch\(es\) with data, ([\d,]+) rows(?:, committed (.*))?$")


@pytest.fixture
def ctx(tmp_path, spark):
    """One landing file per micro-batch, so a run has several batches."""
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext

    settings = settings_from_dict(
        {"storage": {"root": str(tmp_path / "lake")}, "sources": {"files": {"max_files_per_trigger": 1}}}, "<test>"
    )
    return JobContext(settings=settings, _spark=spark)


def _committed(text: str | None) -> dict[str, int]:
    """'silver.events 1,990 + silver.quarantine 10' -> {table: rows}."""
    if not text:
        return {}
    return {table: int(n.replace(",", "")) for table, n in (part.rsplit(" ", 1) for part in text.split(" + "))}


def _lines(stderr: str) -> list[tuple[int, int, dict[str, int]]]:
    """(batch id, rows, committed) of each progress line."""
    found = [LINE.match(line) for line in stderr.splitlines()]
    return [(int(m[2]), int(m[3].replace(",", "")), _committed(m[4])) for m in found if m]


def _sum(committed: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in committed:
        for table, n in c.items():
            out[table] = out.get(table, 0) + n
    return out


def _files(ctx) -> int:
    """Landing files: one micro-batch each."""
    return len(list((ctx.settings.storage.landing_dir / "events").glob("*.jsonl")))


def _count(ctx, key: str) -> int:
    return ctx.spark.read.format("delta").load(ctx.settings.table(key).path).count()


def _stop_after(ctx, job: str, checkpoint: str, batches: int, params: dict) -> Interrupted:
    """Run `job` continuously; once its checkpoint (under checkpoints/) holds `batches` committed batches,
    SIGINT this process (the job's handler stops it after the batch in flight). Returns the Interrupted
    it ended with."""
    commits = ctx.settings.storage.checkpoints_dir / checkpoint / "offsets" / "commits"
    before = signal.getsignal(signal.SIGINT)

    def done() -> int:
        return len([f for f in commits.iterdir() if f.name.isdigit()]) if commits.is_dir() else 0

    def watch() -> None:
        end = time.monotonic() + 240  # bounded: a stalled stream fails the assertion below
        while (done() < batches or signal.getsignal(signal.SIGINT) is before) and time.monotonic() < end:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with pytest.raises(Interrupted) as stopped:
            run_job(ctx, job, {"continuous": True, "trigger_interval": "1 second", **params})
    finally:
        watcher.join(timeout=250)
    assert done() >= batches
    return stopped.value


def _check(stop: Interrupted, stderr: str, tables: dict[str, int], rows_in: int) -> None:
    """Progress lines and stop line against the rows read (`rows_in`) and committed (`tables`)."""
    lines = _lines(stderr)
    assert len(lines) >= 2 and len({b for b, _, _ in lines}) == len(lines), stderr  # one line per batch, each once
    m = STOP.search(stop.message)
    assert m, stop.message
    assert int(m[1]) == len(lines)
    assert sum(r for _, r, _ in lines) == int(m[2].replace(",", "")) == rows_in, stderr
    assert _sum([c for _, _, c in lines]) == _committed(m[3]) == {t: n for t, n in tables.items() if n}, stderr


def test_ingest_continuous_progress_and_stop_lines_add_up_to_what_it_committed(ctx, capsys):
    g = generate(ctx.settings.storage.landing_dir, 400, seed=5, start=START, bad_fraction=0.05, file_rows=200)
    stop = _stop_after(ctx, "ingest", "ingest/files", _files(ctx), {"source": "files"})
    bronze, quarantine = _count(ctx, "bronze.events"), _count(ctx, "bronze.quarantine")
    assert (bronze, quarantine) == (g.valid_events, g.bad_records) and quarantine > 0
    _check(stop, capsys.readouterr().err, {"bronze.events": bronze, "bronze.quarantine": quarantine}, g.events)


def test_ingest_available_now_records_each_row_once_in_stream_progress(ctx):
    from deltalake import DeltaTable

    g = generate(ctx.settings.storage.landing_dir, 400, seed=6, start=START, bad_fraction=0.05, file_rows=200)
    result = run_job(ctx, "ingest", {"source": "files"})
    bronze, quarantine = _count(ctx, "bronze.events"), _count(ctx, "bronze.quarantine")
    assert (bronze, quarantine) == (g.valid_events, g.bad_records) and quarantine > 0
    files = _files(ctx)
    assert files >= 2 and result.rows_read == g.events and result.metrics["batches"] == files

    rows = [r for r in DeltaTable(ctx.settings.table("ops.stream_progress").path).to_pyarrow_table().to_pylist() if r["num_input_rows"]]
    assert len(rows) == files == len({r["batch_id"] for r in rows})
    assert sum(r["num_input_rows"] for r in rows) == g.events
    assert sum(r["rows_committed"] for r in rows) == bronze + quarantine
    rates = [(r["processed_rows_per_second"], r["num_input_rows"] / r["duration_ms"] * 1000) for r in rows if r["duration_ms"]]
    assert all(abs(got - want) <= 0.02 * want for got, want in rates)  # rates from the same rows


def test_transform_continuous_counts_each_bronze_row_once(ctx, capsys):
    """transform reads each batch for silver.events, silver.reviews and silver.quarantine: Spark's count
    said three times the rows (issue 33); the lines now say what the batch held and what each table got."""
    generate(ctx.settings.storage.landing_dir, 400, seed=7, start=START, bad_fraction=0.05, duplicate_fraction=0.05, file_rows=200)
    run_job(ctx, "ingest", {"source": "files"})
    bronze_path = ctx.settings.table("bronze.events").path
    files = len(ctx.spark.read.format("delta").load(bronze_path).inputFiles())
    per = -(-files // 2)  # two batches (one when bronze has one file)
    capsys.readouterr()
    stop = _stop_after(ctx, "transform", "transform", -(-files // per), {"max_files_per_trigger": per})
    tables = {t: _count(ctx, t) for t in ("silver.events", "silver.reviews", "silver.quarantine")}
    assert tables["silver.events"] > 0 and tables["silver.reviews"] > 0
    _check(stop, capsys.readouterr().err, tables, _count(ctx, "bronze.events"))
