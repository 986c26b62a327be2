from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lakectl.cli.app import app

HEAVY = ("pyspark", "mlflow", "databricks.sdk", "delta", "deltalake", "pandas", "pyarrow")


def test_help_imports_no_heavy_module():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "lakectl", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    top = {name.split(".")[0] for name in imported} | imported
    for heavy in HEAVY:
        assert heavy not in top, f"`lakectl --help` imported {heavy}"
    assert "generate" in proc.stdout and "ingest" in proc.stdout


def test_version():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.startswith("lakectl ")


def test_generate_json_and_dry_run(tmp_path):
    out = tmp_path / "landing"
    r = CliRunner().invoke(app, ["generate", "--events", "500", "--bad-fraction", "0.1", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["events"] == 500 and doc["valid_events"] + doc["bad_records"] == 500
    assert len(list((out / "events").glob("*.jsonl"))) == 1
    r = CliRunner().invoke(app, ["generate", "--events", "500", "--out", str(tmp_path / "dry"), "--dry-run", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["dry_run"] is True
    assert not (tmp_path / "dry").exists()


def test_bad_config_is_one_line_exit_2(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("tables:\n  silver.events:\n    optimize:\n      zorder_by: 7\n")
    r = CliRunner().invoke(app, ["--config", str(cfg), "generate", "--events", "1"])
    assert r.exit_code == 2
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "tables.silver.events.optimize.zorder_by" in lines[0] and str(cfg) in lines[0]
    cfg.write_text("storage:\n  rooot: x\n")
    r = CliRunner().invoke(app, ["--config", str(cfg), "--json", "generate"])
    assert r.exit_code == 2 and json.loads(r.stdout)["error"]["kind"] == "config"
    assert "storage.rooot: unknown key" in r.stderr


def test_unknown_target_is_usage_error(tmp_path):
    r = CliRunner().invoke(app, ["--target", "nowhere", "generate", "--events", "1", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "nowhere" in r.stderr


def test_bad_parameter_is_exit_2():
    r = CliRunner().invoke(app, ["generate", "--events", "-5"])
    assert r.exit_code == 2


def test_job_entry_point_prints_result_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl.runners.jobentry", "generate", "--params", json.dumps({"events": 50, "out": str(tmp_path)})],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    line = [l for l in proc.stdout.splitlines() if l.startswith("LAKECTL_RESULT ")][-1]
    assert json.loads(line.removeprefix("LAKECTL_RESULT "))["events"] == 50
    bad = subprocess.run(
        [sys.executable, "-m", "lakectl.runners.jobentry", "generate", "--params", "{not json"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


def test_nested_per_rule_metrics_render_as_their_own_table(capsys):
    from lakectl.cli.render import render_result
    from lakectl.core.results import Result

    rules = [
        {"table": "silver.events", "rule": "rating_range", "action": "quarantine", "rows_checked": 100, "rows_failed": 1},
        {"table": "silver.events", "rule": "country_iso2", "action": "warn", "rows_checked": 100, "rows_failed": 0},
    ]
    render_result(
        Result(job="demo", details=[{"job": "transform", "status": "ok", "quality": rules}, {"job": "aggregate", "status": "ok"}]),
        as_json=False,
    )
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert "transform quality (table=silver.events)" in flat  # a shared text value goes into the title
    lines = out.splitlines()
    header = next(ln for ln in lines if "rule" in ln and "action" in ln)
    assert "rows checked" in header and "rows failed" in header and "table" not in header  # counts stay columns
    assert any("rating_range" in ln and "quarantine" in ln and ln.rstrip(" │").endswith("1") for ln in lines)
    assert any("country_iso2" in ln and "warn" in ln for ln in lines)


@pytest.mark.parametrize(
    "argv, command",
    [
        (["monitor", "tables", "--json"], "monitor"),
        (["--json", "-c", "monitor", "ingest"], "ingest"),  # "monitor" is the config file's name here
        (["--config", "x.yaml", "--target", "local", "optimize"], "optimize"),
        (["--verbose", "monitr"], None),  # not a command: the full CLI answers with its suggestion
        (["--help"], None),
        ([], None),
    ],
)
def test_command_line_names_its_command(argv, command):
    from lakectl.cli.argv import command_named

    assert command_named(argv) == command


def test_a_command_line_builds_only_its_command():
    import typer.main

    from lakectl.cli.app import build
    from lakectl.cli.argv import COMMANDS

    assert sorted(typer.main.get_command(build()).commands) == sorted(COMMANDS)
    assert sorted(typer.main.get_command(build("monitor")).commands) == ["monitor"]
