"""lakectl as a user runs it: real subprocesses, real files, the shipped config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.spark]
REPO = Path(__file__).resolve().parents[2]


def lakectl(*args: str, root: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKECTL_ROOT": str(root), "LAKECTL_CONFIG": str(REPO / "configs" / "lakectl.yaml")}
    return subprocess.run(
        [sys.executable, "-m", "lakectl", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=root.parent
    )


def test_generate_then_ingest_files_exactly_once(tmp_path):
    from deltalake import DeltaTable

    root = tmp_path / "lake"
    gen = lakectl("generate", "--events", "20000", "--bad-fraction", "0.01", "--json", root=root)
    assert gen.returncode == 0, gen.stderr
    g = json.loads(gen.stdout)

    first = lakectl("ingest", "--source", "files", "--json", root=root)
    assert first.returncode == 0, first.stderr
    r = json.loads(first.stdout)
    assert r["rows_written"] == g["valid_events"] and r["rows_quarantined"] == g["bad_records"] > 0
    assert first.stderr.strip() == "", "a successful run prints nothing on stderr (JVM output goes to logs/)"

    ids = DeltaTable(str(root / "tables" / "bronze" / "events")).to_pyarrow_table(columns=["event_id"]).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == g["valid_events"]

    second = lakectl("ingest", "--source", "files", "--json", root=root)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["rows_written"] == 0


def test_demo_prints_a_line_per_stage_and_next_steps_without_a_terminal(tmp_path):
    from deltalake import DeltaTable

    root = tmp_path / "lake"
    proc = lakectl("demo", "--events", "2000", root=root, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    for stage in ("generate", "ingest", "transform", "aggregate"):
        assert f"lakectl: {stage} started" in lines, proc.stderr
        assert any(ln.startswith(f"lakectl: {stage} ok in ") for ln in lines), proc.stderr
    assert "next:" in lines and any("lakectl monitor tables" in ln for ln in lines)
    assert "demo: ok in 0.0s" not in proc.stdout and "demo: ok in 0 ms" not in proc.stdout  # the whole run's time
    runs = DeltaTable(str(root / "tables" / "ops" / "runs")).to_pyarrow_table().to_pylist()
    parent = [r for r in runs if r["parent_run_id"] is None]
    assert [r["command"] for r in parent] == ["demo"] and len(runs) == 5  # demo + its 4 stages
    assert {r["status"] for r in runs} == {"ok"}
    assert sorted(r["command"] for r in runs if r["parent_run_id"]) == ["aggregate", "generate", "ingest", "transform"]
