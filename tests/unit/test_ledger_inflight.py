"""A run killed before it could record itself (kill -9) shows up in ops.runs as `interrupted` once
the next run starts, instead of vanishing or showing as running forever. delta-rs only, no JVM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

RUN = textwrap.dedent("""
    import os, signal, sys
    from lakectl.engine.context import JobContext
    from lakectl.monitor.ledger import recording
    from lakectl.config import settings_from_dict

    ctx = JobContext(settings=settings_from_dict({"storage": {"root": sys.argv[1]}}, "<test>"), run_id=sys.argv[2])
    with recording(ctx, "transform", {"batch": True}):
        if sys.argv[3] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
""")


def _run(root: Path, run_id: str, how: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LAKECTL_LEDGER", None)
    return subprocess.run([sys.executable, "-c", RUN, str(root), run_id, how], env=env, timeout=120).returncode


def _runs(root: Path) -> dict[str, dict]:
    from deltalake import DeltaTable

    path = root / "tables" / "ops" / "runs"
    return {r["run_id"]: r for r in DeltaTable(str(path)).to_pyarrow_table().to_pylist()} if path.exists() else {}


def test_a_killed_run_is_recorded_as_interrupted_by_the_next_run(tmp_path):
    root = tmp_path / "lake"
    assert _run(root, "killed1", "kill") == -signal.SIGKILL
    assert "killed1" not in _runs(root)  # nothing could record it yet
    assert list((root / "checkpoints" / "_runs").glob("*.json"))  # but its marker is there

    assert _run(root, "next1", "ok") == 0
    runs = _runs(root)
    assert runs["next1"]["status"] == "ok"
    killed = runs["killed1"]
    assert killed["status"] == "interrupted" and "killed" in killed["error"]
    assert killed["command"] == "transform" and killed["started_at"] is not None and killed["ended_at"] is None
    assert not list((root / "checkpoints" / "_runs").glob("*.json"))

    assert _run(root, "next2", "ok") == 0
    assert len(_runs(root)) == 3  # recorded once, not again by later runs


def test_a_running_run_is_left_alone(tmp_path):
    """A marker whose holder still runs (its flock is held) is not swept."""
    from lakectl.monitor.inflight import mark, sweep

    directory = tmp_path / "_runs"
    held = mark(directory, "live1", {"run_id": "live1", "command": "ingest"})
    recorded: list[dict] = []
    assert sweep(directory, recorded.extend) == 0 and recorded == []
    assert (directory / "live1.json").exists()
    held.release()
    assert not (directory / "live1.json").exists()
