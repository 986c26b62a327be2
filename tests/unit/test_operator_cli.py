"""Operator papercuts (issue 18, sections 2 and 4): config mistakes, global options after the
command, JSON error documents, monitor filters that match nothing, read-only runs off the ledger."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def lakectl(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("LAKECTL_CONFIG", "LAKECTL_ROOT", "LAKECTL_TARGET")}
    return subprocess.run(
        [sys.executable, "-m", "lakectl", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env={**base, **(env or {})}
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "lakectl.yaml"
    path.write_text(f"storage:\n  root: {tmp_path / 'lake'}\n")
    return path


def test_no_config_file_warns_where_it_looked(tmp_path):
    proc = lakectl("monitor", "runs", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warning = [ln for ln in proc.stderr.splitlines() if ln.startswith("lakectl: warning: no config file")]
    assert len(warning) == 1 and str(tmp_path / "configs" / "lakectl.yaml") in warning[0]
    assert not (tmp_path / ".lakectl").exists(), "a read-only command created a lake in the current folder"


def test_typo_under_tables_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  silver.evnets:\n    sla: {freshness_minutes: 5}\n  gold.my_own_kpis:\n    path: /tmp/x\n")
    proc = lakectl("-c", str(bad), "monitor", "runs", cwd=tmp_path)
    assert proc.returncode == 2
    assert "tables.silver.evnets: unknown table" in proc.stderr and "did you mean silver.events?" in proc.stderr


def test_invalid_enum_names_the_rule_and_the_allowed_values(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("transform:\n  expectations:\n    - {name: price_ok, expr: 'price > 0', action: quarantin}\n")
    proc = lakectl("-c", str(bad), "monitor", "runs", cwd=tmp_path)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "transform.expectations.0.action" in line and "'price_ok'" in line and "allowed: warn, drop, quarantine, fail" in line


def test_global_options_after_the_command(tmp_path, config):
    proc = lakectl("monitor", "runs", "--json", "-c", str(config), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["job"] == "monitor runs"
    verbose = lakectl("optimize", "silver.nope", "--verbose", "--config", str(config), cwd=tmp_path)
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr  # --verbose reached the global option


@pytest.mark.parametrize("args", [["optimize", "--no-such-flag"], ["monitor", "runs", "--limit", "zero"]])
def test_json_usage_errors_print_the_json_error_document(tmp_path, config, args):
    proc = lakectl("-c", str(config), *args, "--json", cwd=tmp_path)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["status"] == "error" and doc["error"]["kind"] == "usage" and doc["error"]["exit_code"] == 2


@pytest.mark.parametrize(
    "args, hint",
    [
        (["monitor", "runs", "--command", "ingset"], "did you mean ingest?"),
        (["monitor", "runs", "--status", "interupted"], "did you mean interrupted?"),
        (["monitor", "tables", "--table", "silver.event"], "did you mean silver.events?"),
    ],
)
def test_monitor_filters_that_match_nothing_known_exit_2(tmp_path, config, args, hint):
    proc = lakectl("-c", str(config), *args, cwd=tmp_path)
    assert proc.returncode == 2 and hint in proc.stderr, proc.stderr


def test_read_only_runs_stay_out_of_the_ledger_unless_asked(tmp_path):
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job
    from lakectl.lake.deltars import read_rows

    s = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}})
    run_job(JobContext(settings=s), "monitor", {"action": "runs"})
    run_job(JobContext(settings=s), "generate", {"events": 5, "out": str(tmp_path / "landing"), "dry_run": True})
    ran = run_job(JobContext(settings=s), "generate", {"events": 5, "out": str(tmp_path / "landing")})
    rows = read_rows(s.table("ops.runs").path)
    assert [r["command"] for r in rows] == ["generate"] and rows[0]["status"] == "ok"
    assert ran.metrics.get("run_id") == rows[0]["run_id"]

    on = settings_from_dict({"storage": {"root": str(tmp_path / "lake2")}, "monitor": {"record_read_only": True}})
    run_job(JobContext(settings=on), "monitor", {"action": "runs"})
    assert [r["command"] for r in read_rows(on.table("ops.runs").path)] == ["monitor"]


def test_run_writes_one_parent_row(tmp_path, config):
    from lakectl.lake.deltars import read_rows

    proc = lakectl("-c", str(config), "run", "--skip", "ingest", "--skip", "transform", "--skip", "aggregate", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = read_rows(str(tmp_path / "lake" / "tables" / "ops" / "runs"))
    assert [(r["command"], r["run_id"], r["parent_run_id"]) for r in rows] == [("run", doc["run_id"], None)]


def test_monitor_tables_fits_80_columns_and_speaks_csv(tmp_path, config):
    import csv
    import io

    import pyarrow as pa
    from deltalake import write_deltalake

    for key in ("gold.product_performance_daily", "silver.events"):
        schema, name = key.split(".")
        write_deltalake(str(tmp_path / "lake" / "tables" / schema / name), pa.table({"x": list(range(1234))}))
    proc = lakectl("-c", str(config), "monitor", "tables", cwd=tmp_path, env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80, proc.stdout
    row = next(ln for ln in lines if "gold.product_performance_daily" in ln)  # the name never wraps
    assert "1,234" in row and "KiB" in row
    out = lakectl("-c", str(config), "monitor", "tables", "-o", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["table"]: r["rows"] for r in rows}["silver.events"] == "1234"
