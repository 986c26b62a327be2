"""`-o table|wide|json|csv` (issue 18, section 3): one global option for every command, before or
after the command; -o json is --json, -o csv the main table with raw values, -o wide cuts nothing."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakectl.cli.app import build
from lakectl.cli.argv import hoist_global_options
from lakectl.cli.render import render_result
from lakectl.core.results import Result

LONG = "abc" * 50  # 150 characters: more than an 80-column terminal holds


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A config and one small Delta table (written with delta-rs: no JVM)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(
        str(tmp_path / "lake" / "tables" / "silver" / "events"),
        pa.table({"event_id": [f"e{i}" for i in range(1234)], "price": [float(i) for i in range(1234)]}),
    )
    config = tmp_path / "lakectl.yaml"
    config.write_text(f"storage:\n  root: {tmp_path / 'lake'}\n")
    return config


def invoke(*args: str):
    return CliRunner().invoke(build(), list(args))


def _stable(doc: dict) -> dict:
    """A result without what differs between two runs of the same command."""
    doc = {k: v for k, v in doc.items() if k not in ("duration_s", "run_id")}
    doc["details"] = [{k: v for k, v in d.items() if k != "freshness_minutes"} for d in doc.get("details", [])]
    return doc


def test_dash_o_json_is_dash_dash_json(tmp_path, lake):
    by_flag = invoke("-c", str(lake), "monitor", "tables", "--table", "silver.events", "--json")
    by_output = invoke("-c", str(lake), "-o", "json", "monitor", "tables", "--table", "silver.events")
    assert by_flag.exit_code == 0 and by_output.exit_code == 0, by_output.output
    assert _stable(json.loads(by_output.stdout)) == _stable(json.loads(by_flag.stdout))
    assert json.loads(by_output.stdout)["details"][0]["rows"] == 1234  # raw, not "1,234"
    # a command with its own rendering: byte for byte the same document
    init_flag = invoke("--json", "init", str(tmp_path / "p"), "--dry-run")
    init_output = invoke("-o", "json", "init", str(tmp_path / "p"), "--dry-run")
    assert init_output.exit_code == 0 and init_output.stdout == init_flag.stdout
    assert json.loads(init_output.stdout)["status"] == "dry_run"


def test_dash_o_after_the_command_is_the_global_option():
    assert hoist_global_options(["monitor", "tables", "-o", "csv"]) == ["-o", "csv", "monitor", "tables"]
    assert hoist_global_options(["query", "SELECT 1", "--output=wide"]) == ["--output=wide", "query", "SELECT 1"]
    assert hoist_global_options(["query", "--", "-o", "x"]) == ["query", "--", "-o", "x"]  # after --: an argument


def test_dash_o_json_after_the_command_in_a_real_process(tmp_path, lake):
    env = {k: v for k, v in os.environ.items() if k not in ("LAKECTL_CONFIG", "LAKECTL_TARGET")}
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", "monitor", "tables", "--table", "silver.events", "-o", "json", "-c", str(lake)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["job"] == "monitor tables"
    bad = subprocess.run(
        [sys.executable, "-m", "lakectl", "monitor", "tables", "-o", "yaml", "-c", str(lake)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "'table', 'wide', 'json', 'csv'" in bad.stderr


def test_dash_o_csv_prints_the_main_table_raw(lake):
    pytest.importorskip("duckdb")
    res = invoke(
        "-c",
        str(lake),
        "-o",
        "csv",
        "query",
        "SELECT event_id, price * 1000 AS price FROM silver.events ORDER BY price DESC LIMIT 3",
        "--engine",
        "duckdb",
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["event_id", "price"]
    assert rows[1:] == [["e1233", "1233000.0"], ["e1232", "1232000.0"], ["e1231", "1231000.0"]]  # no separators
    assert "row(s) in" not in res.stdout  # nothing for people mixed into the data


def test_dash_o_csv_of_monitor_tables_goes_through_the_shared_renderer(lake):
    res = invoke("-c", str(lake), "monitor", "tables", "--table", "silver.events", "-o", "csv")
    assert res.exit_code == 0, res.output
    row = next(csv.DictReader(io.StringIO(res.stdout)))
    assert row["table"] == "silver.events" and row["rows"] == "1234" and int(row["bytes"]) > 1024
    assert json.loads(row["last_operations"])[0]["operation"] == "WRITE"


def test_dash_o_csv_without_a_main_table_is_one_usage_line(tmp_path, lake):
    html = tmp_path / "report.html"
    res = invoke("-c", str(lake), "-o", "csv", "monitor", "report", "--html", str(html))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lakectl: error: -o csv is not available for `lakectl monitor report`")
    assert "csv works with: query" in lines[0] and "monitor tables" in lines[0]
    assert res.stdout == "" and not html.exists()  # refused before any work
    assert invoke("-o", "csv", "init", str(tmp_path / "p"), "--dry-run").exit_code == 2


def test_json_and_another_output_disagree(lake):
    res = invoke("-c", str(lake), "--json", "-o", "csv", "monitor", "tables")
    assert res.exit_code == 2 and "ask for different outputs" in res.stderr


def test_dash_o_wide_shows_a_long_value_whole(lake, monkeypatch):
    pytest.importorskip("duckdb")
    monkeypatch.setenv("COLUMNS", "80")
    sql = f"SELECT event_id, '{LONG}' AS note FROM silver.events ORDER BY event_id LIMIT 1"
    narrow = invoke("-c", str(lake), "query", sql, "--engine", "duckdb")
    wide = invoke("-c", str(lake), "-o", "wide", "query", sql, "--engine", "duckdb")
    assert narrow.exit_code == 0 and wide.exit_code == 0, wide.output
    assert max(len(ln) for ln in narrow.stdout.splitlines()) <= 80 and LONG not in narrow.stdout
    assert any(LONG in ln and "e0" in ln for ln in wide.stdout.splitlines()), wide.stdout  # one line, nothing cut
    assert "…" not in wide.stdout


def test_wide_and_csv_of_a_result_in_process(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = Result(
        job="optimize",
        details=[
            {"table": "silver.events", "files_before": 12_345, "note": LONG},
            {"table": "gold.kpi_hourly", "files_before": 7, "note": "ok"},
        ],
    )
    render_result(result, fmt="wide")
    assert LONG in capsys.readouterr().out
    render_result(result, fmt="csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["table", "files_before", "note"], ["silver.events", "12345", LONG], ["gold.kpi_hourly", "7", "ok"]]


def test_grant_out_has_no_short_alias_any_more(lake):
    res = invoke("grant", "plan", "--help")
    assert "--out" in res.stdout and " -o " not in res.stdout


def test_old_grant_dash_o_file_gets_a_hint_to_use_out():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", "grant", "export", "-o", "policy.yaml"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "`--out FILE`" in lines[0] and "'policy.yaml' is not one of" in lines[0]


def test_no_command_declares_its_own_dash_o():
    """-o is the global output option: a command's own -o would shadow it (grant's --out lost its -o)."""
    import typer

    def walk(cmd, path):
        for p in getattr(cmd, "params", []):
            if path:
                assert not {"-o", "--output"} & set(p.opts + p.secondary_opts), f"`lakectl {' '.join(path)}` declares {p.opts}"
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, path + [name])

    root = typer.main.get_command(build())
    assert "-o" in next(p for p in root.params if p.name == "output").opts
    walk(root, [])
