"""Concurrent operators: a second lakectl process on a stage that is running is refused with exit 6 and
one line naming the holder (pid, host, since), for every stage that writes; a holder killed with -9
blocks nobody. The holder is a real second process; the refused command is a real `python -m lakectl`
(the locks are taken before Spark starts, so no JVM is needed here)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.core.errors import CheckpointConflict
from lakectl.lake.checkpoints import LOCK_FILE, checkpoint_lock, stage_lock

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lakectl.lake.checkpoints import checkpoint_lock
    with checkpoint_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(120)
""")


def _holder(lock_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _lakectl(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKECTL_LEDGER": "off"}
    return subprocess.run(
        [sys.executable, "-m", "lakectl", "--config", str(cfg), *args], capture_output=True, text=True, timeout=90, env=env
    )


@pytest.fixture
def lake(tmp_path: Path) -> tuple[Path, Path]:
    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(f"storage:\n  root: {tmp_path / 'lake'}\n")
    landing = tmp_path / "lake" / "landing" / "events"
    landing.mkdir(parents=True)
    (landing / "part-0.json").write_text('{"event_id": "e1"}\n')  # ingest checks its source before the lock
    return cfg, tmp_path / "lake" / "checkpoints"


# (command line, the folder its lock lives in, relative to <checkpoints>)
STAGES = [
    (["ingest", "--source", "files"], "ingest/files"),
    (["transform"], "transform"),
    (["transform", "--batch"], "transform"),
    (["aggregate"], "aggregate"),
    (["optimize"], "optimize"),
    (["optimize", "silver.events", "--vacuum"], "optimize"),
]


@pytest.mark.parametrize("argv,folder", STAGES, ids=[" ".join(a) for a, _ in STAGES])
def test_second_operator_is_refused_with_exit_6_naming_the_holder(lake, argv, folder):
    cfg, checkpoints = lake
    holder = _holder(checkpoints / folder)
    try:
        out = _lakectl(cfg, *argv)
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 6, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lakectl: error: "), out.stderr
    assert f"pid {holder.pid} on {socket.gethostname()} since 20" in lines[0]
    assert "Traceback" not in out.stderr + out.stdout


def test_refusal_is_one_json_document_with_the_conflict_kind(lake):
    cfg, checkpoints = lake
    holder = _holder(checkpoints / "optimize")
    try:
        out = _lakectl(cfg, "--json", "optimize")
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 6
    error = json.loads(out.stdout)["error"]
    assert error["kind"] == "checkpoint_conflict" and f"pid {holder.pid}" in error["message"]
    assert "wait for the other `lakectl optimize`" in error["hint"]


@pytest.mark.parametrize("folder", ["transform", "optimize", "aggregate", "ingest/files"])
def test_a_holder_killed_with_sigkill_blocks_nobody(lake, folder):
    _, checkpoints = lake
    holder = _holder(checkpoints / folder)
    with pytest.raises(CheckpointConflict, match=f"pid {holder.pid}"):
        with checkpoint_lock(checkpoints / folder):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (checkpoints / folder / LOCK_FILE).read_text().startswith(f"pid {holder.pid} ")  # the note stays...
    with checkpoint_lock(checkpoints / folder):  # ...but the lock went with the process
        assert (checkpoints / folder / LOCK_FILE).read_text().startswith(f"pid {os.getpid()} ")


def test_stage_lock_is_the_checkpoint_lock_of_the_stage_folder(tmp_path):
    """score/train use stage_lock(<checkpoints>, name): the same file, the same refusal."""
    settings = settings_from_dict({"storage": {"root": str(tmp_path)}})
    with stage_lock(settings.storage.checkpoints_dir, "score"):
        with pytest.raises(CheckpointConflict) as err:
            with checkpoint_lock(settings.storage.checkpoints_dir / "score"):
                pass
    assert err.value.exit_code == 6 and f"pid {os.getpid()}" in err.value.message
    with stage_lock(settings.storage.checkpoints_dir, "score"):  # released on exit
        pass
