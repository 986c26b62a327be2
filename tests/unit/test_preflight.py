"""Checks before the JVM: a typo'd table, column or predicate fails in well under 2 s with a
"did you mean", and no pyspark is imported (so no JVM can have started)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

WATCH_IMPORTS = (
    "import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write('PYSPARK_IMPORTED\\n' if 'pyspark' in sys.modules else 'no pyspark\\n')); "
    "sys.argv = ['lakectl'] + sys.argv[1:]; runpy.run_module('lakectl', run_name='__main__')"
)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    import pyarrow as pa
    from deltalake import write_deltalake

    root = tmp_path / "lake"
    events = pa.table({"event_id": ["a", "b"], "customer_id": ["c1", "c2"], "event_date": ["2026-01-01", "2026-01-02"]})
    write_deltalake(str(root / "tables" / "silver" / "events"), events, partition_by=["event_date"])
    config = tmp_path / "lakectl.yaml"
    config.write_text(f"storage:\n  root: {root}\n")
    return config


def lakectl(config: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """The process, its wall seconds and its CPU seconds (what the machine's load does not change)."""
    before, started = os.times(), time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", WATCH_IMPORTS, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    after = os.times()
    cpu = after.children_user - before.children_user + after.children_system - before.children_system
    return proc, time.monotonic() - started, cpu


@pytest.mark.parametrize(
    "args, message, hint",
    [
        (["optimize", "silver.evnts"], "table silver.evnts does not exist", "did you mean silver.events?"),
        (
            ["optimize", "silver.events", "--zorder", "customer"],
            "--zorder column 'customer' is not in the table",
            "did you mean customer_id?",
        ),
        (["optimize", "silver.events", "--cluster-by", "evnt_id"], "--cluster-by column 'evnt_id'", "did you mean event_id?"),
        (
            ["optimize", "silver.events", "--where", "customer_id = 'c1'"],
            "--where may only use partition columns",
            "partition columns: event_date",
        ),
        (["optimize", "silver.events", "--where", "event_dat >= '2026-01-01'"], "--where column 'event_dat'", "did you mean event_date?"),
        (["optimize", "silver.events", "--vacuum", "--retain", "1h"], "shorter than the table's", "retain at least 168h"),
        (["optimize", "gold.kpi_hourly"], "table gold.kpi_hourly does not exist yet", "run `lakectl aggregate` first"),
    ],
)
def test_optimize_mistakes_fail_fast_without_a_jvm(lake, args, message, hint):
    proc, took, cpu = lakectl(lake, *args)
    assert proc.returncode == 2, proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("lakectl: error:")]
    assert len(line) == 1 and message in line[0] and hint in line[0], proc.stderr
    assert "no pyspark" in proc.stderr, "pyspark was imported: the check ran after Spark"
    # ~0.25 s of CPU; wall time is 0.6 s on a quiet machine, more while other test JVMs compete
    assert cpu < 2.0 and took < 10.0, f"{took:.1f}s wall, {cpu:.2f}s CPU"


def test_did_you_mean():
    from lakectl.core.suggest import did_you_mean
    from lakectl.lake.preflight import predicate_columns

    assert did_you_mean("silver.evnts", ["bronze.events", "silver.events", "gold.kpi_hourly"]) == "did you mean silver.events?"
    assert did_you_mean("zzz", ["silver.events"]) is None
    assert predicate_columns("event_date >= current_date() - INTERVAL 7 DAYS AND `my col` IN ('x', 'y')") == ["event_date", "my col"]


def test_ingest_landing_folder_missing_fails_before_the_jvm(lake):
    proc, took, cpu = lakectl(lake, "ingest", "--path", str(lake.parent / "nope"))
    assert proc.returncode == 4 and "landing folder not found" in proc.stderr, proc.stderr
    assert "no pyspark" in proc.stderr and cpu < 2.0


def test_nothing_new_reads_the_file_source_log(tmp_path):
    from lakectl.pipeline.sources.files import nothing_new

    landing = tmp_path / "landing"
    landing.mkdir()
    for name in ("a.json", "b.json"):
        (landing / name).write_text("{}\n")
    (landing / "_SUCCESS").write_text("")
    offsets = tmp_path / "cp" / "offsets"
    for d in ("offsets", "commits", "sources/0"):
        (offsets / d).mkdir(parents=True)
    assert not nothing_new(str(landing), offsets)  # never ran
    (offsets / "offsets" / "0").write_text("v1\n")
    (offsets / "sources" / "0" / "0").write_text(
        "v1\n" + "\n".join(f'{{"path":"file://{landing / n}","timestamp":1,"batchId":0}}' for n in ("a.json", "b.json"))
    )
    assert not nothing_new(str(landing), offsets)  # batch 0 planned but not committed: a replay is due
    (offsets / "commits" / "0").write_text("v1\n{}\n")
    assert nothing_new(str(landing), offsets)
    (landing / "c.json").write_text("{}\n")
    assert not nothing_new(str(landing), offsets)
