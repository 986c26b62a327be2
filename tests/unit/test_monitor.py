"""monitor without a JVM: the run ledger, table health from the Delta log, quality, SLAs, JUnit, report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.core.errors import UsageError
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job
from lakectl.lake.deltars import append, read_rows
from lakectl.monitor import ledger

REPO = Path(__file__).resolve().parents[2]
DQ_SCHEMA_ROWS = ("run_id", "table", "rule", "action", "rows_checked", "rows_passed", "rows_failed", "recorded_at")


def _settings(tmp_path: Path, tables: dict | None = None):
    return settings_from_dict({"storage": {"root": str(tmp_path / "lake")}, "tables": tables or {}}, "<test>")


def _write(path: str, n: int, files: int = 1) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    for i in range(files):
        write_deltalake(path, pa.table({"event_id": [f"e{i}-{j}" for j in range(n)], "x": list(range(n))}), mode="append")


def _dq_schema():
    """ops.dq_metrics as the brief's contract gives it (the transform job writes it)."""
    return [
        ("run_id", "string"),
        ("table", "string"),
        ("rule", "string"),
        ("action", "string"),
        ("rows_checked", "int64"),
        ("rows_passed", "int64"),
        ("rows_failed", "int64"),
        ("recorded_at", "timestamp"),
    ]


def test_ledger_records_success_with_masked_secrets_and_failure(tmp_path):
    s = _settings(tmp_path)
    ok = run_job(JobContext(settings=s), "generate", {"events": 50, "out": str(tmp_path / "landing")})
    with pytest.raises(UsageError):
        run_job(JobContext(settings=s), "generate", {"events": -1})  # bad input is no run: not recorded
    (tmp_path / "a-file").write_text("")
    with pytest.raises(Exception):
        run_job(JobContext(settings=s), "generate", {"events": 5, "out": str(tmp_path / "a-file" / "landing")})
    with ledger.recording(JobContext(settings=s, run_id="withsecret"), "ingest", {"sasl_password": "hunter2", "source": "kafka"}):
        pass
    rows = {r["run_id"]: r for r in read_rows(s.table("ops.runs").path)}
    assert len(rows) == 3
    good = next(r for r in rows.values() if r["status"] == "ok" and r["command"] == "generate")
    assert good["rows_out"] == ok.rows_written > 0 and good["user"] and good["target"] == "local"
    assert good["ended_at"] >= good["started_at"]
    failed = next(r for r in rows.values() if r["status"] == "failed")
    assert failed["command"] == "generate" and "a-file" in failed["error"] and "\n" not in failed["error"]
    assert "hunter2" not in rows["withsecret"]["params"] and json.loads(rows["withsecret"]["params"])["sasl_password"] == "***"
    # Created with a short checkpoint interval, so an append never replays a long JSON log.
    from deltalake import DeltaTable

    assert DeltaTable(s.table("ops.runs").path).metadata().configuration["delta.checkpointInterval"] == "10"


def test_nested_runs_record_stages_with_parent(tmp_path):
    s = _settings(tmp_path)
    ctx = JobContext(settings=s, run_id="top")
    with ledger.recording(ctx, "demo", {}):
        run_job(ctx, "generate", {"events": 10, "out": str(tmp_path / "landing")})
        run_job(ctx, "generate", {"events": 10, "out": str(tmp_path / "landing2")})
    rows = {r["run_id"]: r for r in read_rows(s.table("ops.runs").path)}
    assert set(rows) == {"top", "top.1", "top.2"}
    assert rows["top"]["parent_run_id"] is None and rows["top.1"]["parent_run_id"] == "top"
    assert rows["top.2"]["command"] == "generate"


def test_ledger_failure_only_warns(tmp_path):
    s = _settings(tmp_path)
    runs_dir = Path(s.table("ops.runs").path)
    runs_dir.parent.mkdir(parents=True)
    runs_dir.write_text("a file where the table should be")
    result = run_job(JobContext(settings=s), "generate", {"events": 5, "out": str(tmp_path / "landing")})
    assert result.status == "ok"
    assert any("could not record the run in ops.runs" in w for w in result.warnings)


def test_concurrent_appends_from_two_processes_lose_no_rows(tmp_path):
    root = tmp_path / "lake"
    script = textwrap.dedent(f"""
        from lakectl.engine.context import JobContext
        from lakectl.monitor.ledger import recording
        from lakectl.config import settings_from_dict
        s = settings_from_dict({{"storage": {{"root": {str(root)!r}}}}})
        for i in range(8):
            with recording(JobContext(settings=s), "generate", {{"i": i}}):
                pass
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    rows = read_rows(str(root / "tables" / "ops" / "runs"))
    assert len(rows) == 16 and len({r["run_id"] for r in rows}) == 16


def test_monitor_tables_from_the_log(tmp_path):
    s = _settings(tmp_path, {"silver.events": {"sla": {"freshness_minutes": 60}}})
    _write(s.table("silver.events").path, 7, files=3)
    result = run_job(JobContext(settings=s), "monitor", {"action": "tables"})
    by = {d["table"]: d for d in result.details}
    ev = by["silver.events"]
    assert ev["status"] == "ok" and ev["version"] == 2 and ev["rows"] == 21 and ev["files"] == 3
    assert ev["small_file_ratio"] == 1.0 and ev["bytes"] > 0 and 0 <= ev["freshness_minutes"] < 5
    assert ev["freshness_sla_minutes"] == 60 and [o["version"] for o in ev["last_operations"]] == [2, 1, 0]
    assert by["gold.funnel_daily"]["status"] == "missing"
    assert [d["table"] for d in result.details] == s.table_keys()  # read in parallel, reported in order


def test_monitor_tables_cli_imports_no_pyspark_and_starts_no_jvm(tmp_path):
    s_root = tmp_path / "lake"
    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(f"storage:\n  root: {s_root}\n")
    _write(str(s_root / "tables" / "bronze" / "events"), 5)
    env = {**os.environ, "LAKECTL_CONFIG": str(cfg)}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lakectl", "monitor", "tables", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in imported if m.split(".")[0] in {"pyspark", "py4j", "pandas", "pyarrow", "mlflow", "databricks"}}
    doc = json.loads(out.stdout)
    assert {d["table"]: d["rows"] for d in doc["details"]}["bronze.events"] == 5


def test_quality_pass_rates_and_min_pass_rate_sla(tmp_path):
    s = _settings(tmp_path, {"silver.events": {"sla": {"min_pass_rate": 0.95}}})
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "run_id": "r1",
            "table": "silver.events",
            "rule": "valid_price",
            "action": "quarantine",
            "rows_checked": 100,
            "rows_passed": 99,
            "rows_failed": 1,
            "recorded_at": t0,
        },
        {
            "run_id": "r2",
            "table": "silver.events",
            "rule": "valid_price",
            "action": "quarantine",
            "rows_checked": 100,
            "rows_passed": 90,
            "rows_failed": 10,
            "recorded_at": t0 + timedelta(hours=1),
        },
        {
            "run_id": "r2",
            "table": "silver.events",
            "rule": "has_customer",
            "action": "drop",
            "rows_checked": 100,
            "rows_passed": 100,
            "rows_failed": 0,
            "recorded_at": t0 + timedelta(hours=1),
        },
    ]
    append(s.table("ops.dq_metrics").path, rows, _dq_schema())
    result = run_job(JobContext(settings=s), "monitor", {"action": "quality"})
    rules = {r["rule"]: r for r in result.details}
    assert [h["pass_rate"] for h in rules["valid_price"]["history"]] == [0.99, 0.9]
    assert rules["valid_price"]["last_pass_rate"] == 0.9 and rules["valid_price"]["rows_failed"] == 11
    check = run_job(JobContext(settings=s), "monitor", {"action": "check", "alert": False})
    assert check.status == "breach"
    status = {c["name"]: c["status"] for c in check.details}
    assert status == {"min_pass_rate:silver.events:valid_price": "breach", "min_pass_rate:silver.events:has_customer": "pass"}


def test_check_junit_and_small_file_ratio(tmp_path):
    s = _settings(
        tmp_path,
        {
            "silver.events": {"sla": {"max_small_file_ratio": 0.5, "freshness_minutes": 60}},
            "gold.kpi_hourly": {"sla": {"freshness_minutes": 60}},
        },
    )
    _write(s.table("silver.events").path, 3, files=10)  # monitor.small_file_min_files
    junit = tmp_path / "out" / "sla.xml"
    result = run_job(JobContext(settings=s), "monitor", {"action": "check", "junit": str(junit), "alert": False})
    assert result.status == "breach" and result.metrics["breaches"] == 2
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert cases["freshness:silver.events"].find("failure") is None
    assert cases["max_small_file_ratio:silver.events"].find("failure").get("type") == "SlaBreach"
    assert "missing" in cases["freshness:gold.kpi_hourly"].find("failure").get("message")


def test_check_cli_exits_7_on_breach_and_0_when_met(tmp_path):
    from typer.testing import CliRunner

    from lakectl.cli.app import app

    cfg = tmp_path / "lakectl.yaml"
    root = tmp_path / "lake"
    _write(str(root / "tables" / "silver" / "events"), 3)
    cfg.write_text(
        f"storage:\n  root: {root}\ntables:\n  silver.events:\n    sla:\n      freshness_minutes: 60\n  gold.kpi_hourly:\n    sla:\n      freshness_minutes: 60\n"
    )
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check", "--json"])
    assert res.exit_code == 7, res.output
    doc = json.loads(res.stdout)
    assert doc["breaches"] == 1 and {c["name"] for c in doc["details"] if c["status"] == "breach"} == {"freshness:gold.kpi_hourly"}
    cfg.write_text(f"storage:\n  root: {root}\ntables:\n  silver.events:\n    sla:\n      freshness_minutes: 60\n")
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "runs", "--json", "--command", "monitor"])
    # monitor commands are read-only: off the ledger unless monitor.record_read_only is set
    assert res.exit_code == 0 and json.loads(res.stdout)["matched"] == 0


def test_report_is_self_contained_html_with_chart_data(tmp_path):
    s = _settings(tmp_path, {"silver.events": {"sla": {"freshness_minutes": 60, "min_pass_rate": 0.9}}})
    _write(s.table("silver.events").path, 4, files=2)
    t0 = datetime.now(UTC) - timedelta(hours=2)
    append(
        s.table("ops.dq_metrics").path,
        [
            {
                "run_id": f"r{i}",
                "table": "silver.events",
                "rule": "valid_price",
                "action": "quarantine",
                "rows_checked": 100,
                "rows_passed": 100 - i,
                "rows_failed": i,
                "recorded_at": t0 + timedelta(minutes=10 * i),
            }
            for i in range(3)
        ],
        _dq_schema(),
    )
    from lakectl.monitor.progress import COLUMNS, progress_rows

    progress = [
        {
            "id": "q",
            "runId": "r",
            "batchId": b,
            "timestamp": (t0 + timedelta(minutes=b)).isoformat().replace("+00:00", "Z"),
            "numInputRows": 100,
            "inputRowsPerSecond": 50.0,
            "processedRowsPerSecond": 40.0 + b,
            "durationMs": {"triggerExecution": 900},
            "sources": [{"description": "FileStreamSource", "endOffset": {"logOffset": b}}],
        }
        for b in range(3)
    ]
    append(s.table("ops.stream_progress").path, progress_rows(progress, "files", "run1", None), COLUMNS)
    out = tmp_path / "report.html"
    run_job(JobContext(settings=s), "monitor", {"action": "report", "html": str(out)})
    html = out.read_text()
    assert not re.search(r"<script|https?://(?!www\.w3\.org/2000/svg)", html)  # nothing to fetch, nothing to run
    assert html.count("<svg") >= 5
    points = re.findall(r'data-series="([^"]+)" data-x="([^"]+)" data-y="([^"]+)"', html)
    assert [float(y) for s_, _, y in points if s_ == "silver.events:valid_price"] == [1.0, 0.99, 0.98]
    assert [float(y) for s_, _, y in points if s_ == "files"] == [40.0, 41.0, 42.0]
    assert re.search(r'class="bar" data-series="silver.events" data-y="[0-9.]+"', html)


def test_kafka_backlog_counts_unseen_partitions_from_their_earliest_offset():
    from lakectl.monitor.streams import kafka_backlog

    committed = {"t": {"0": 100, "1": 50}}
    ends = {"t": {"0": (0, 130), "1": (0, 50), "2": (20, 45)}, "u": {"0": (5, 9)}}  # (low, high) watermarks
    total, detail = kafka_backlog(committed, ends)
    assert detail == {"t-0": 30, "t-1": 0, "t-2": 25, "u-0": 4} and total == 59


def test_small_file_sla_does_not_breach_a_fresh_table(tmp_path):
    s = _settings(tmp_path, {"bronze.events": {"sla": {"max_small_file_ratio": 0.8}}})
    _write(s.table("bronze.events").path, 50, files=3)  # a first ingest: a few small files
    result = run_job(JobContext(settings=s), "monitor", {"action": "check", "alert": False})
    check = next(c for c in result.details if c["name"] == "max_small_file_ratio:bronze.events")
    assert result.status == "ok" and check["status"] == "skipped" and "small_file_min_files" in check["message"]
