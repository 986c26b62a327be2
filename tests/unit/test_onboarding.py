"""lakectl init (a commented, valid config and the lake's folders) and lakectl doctor (one line per
check with a fix; real TCP probes against loopback listeners; exit 3 on a failure)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def lakectl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LAKECTL_CONFIG", "LAKECTL_ROOT", "SPARK_REMOTE", "KAFKA_BOOTSTRAP_SERVERS")}
    return subprocess.run([sys.executable, "-m", "lakectl", *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


@pytest.mark.parametrize("kind, default", [("local", "local"), ("spark", "cluster"), ("databricks", "databricks")])
def test_init_writes_a_valid_commented_config_and_folders(tmp_path, kind, default):
    from lakectl.config import load_settings

    proc = lakectl("init", "proj", "--target-kind", kind, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "proj" / "configs" / "lakectl.yaml"
    settings = load_settings(config)
    assert settings.default_target == default and "local" in settings.targets
    assert settings.storage.root_dir == tmp_path / "proj" / ".lakectl"
    assert "#" in config.read_text() and "lakectl doctor" in proc.stdout and "lakectl run" in proc.stdout
    for folder in ("landing/events", "tables", "checkpoints", "logs"):
        assert (tmp_path / "proj" / ".lakectl" / folder).is_dir()
    again = lakectl("init", "proj", cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr and "--force" in again.stderr


@pytest.mark.parametrize("name", ["-", "a: b", "x#y", "q'uo\"te", "brace}", "ünï cødé"])
def test_init_in_a_folder_with_a_yaml_hostile_name(tmp_path, name):
    """The folder's name and path go into the YAML as quoted strings (`lakectl init -` exited 1 with a
    YAML ScannerError, found by the command-line fuzz)."""
    from lakectl.config import load_settings
    from lakectl.onboarding.init import init

    init(str(tmp_path / name), "local")
    settings = load_settings(tmp_path / name / "configs" / "lakectl.yaml")
    assert settings.project == name and settings.storage.root_dir == tmp_path / name / ".lakectl"


def test_init_dry_run_writes_nothing(tmp_path):
    proc = lakectl("init", "proj", "--dry-run", "--json", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "dry_run"
    assert not (tmp_path / "proj").exists()


@pytest.fixture
def listener():
    """A loopback TCP listener on a free port (something that accepts connections)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_doctor_probes_every_target_and_the_broker(tmp_path, listener):
    dead = _free_port()
    config = tmp_path / "lakectl.yaml"
    config.write_text(
        f"storage:\n  root: {tmp_path / 'lake'}\ndefault_target: local\ntargets:\n  local:\n    kind: local\n"
        f"  up:\n    kind: spark\n    remote: sc://127.0.0.1:{listener}\n"
        f"  down:\n    kind: spark\n    remote: sc://127.0.0.1:{dead}\n"
        f"sources:\n  kafka:\n    bootstrap_servers: 127.0.0.1:{listener}\n"
    )
    proc = lakectl("--config", str(config), "doctor", "--json", "--probe-timeout", "1", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    by = {c["name"]: c for c in doc["checks"]}
    assert doc["status"] == "fail"
    assert by["python"]["status"] == "ok" and by["java"]["status"] == "ok" and by["config"]["status"] == "ok"
    assert by["target up"]["status"] == "ok" and by["kafka"]["status"] == "ok"
    assert by["target down"]["status"] == "fail" and "scripts/spark-connect-local" in by["target down"]["fix"]

    human = lakectl("--config", str(config), "doctor", "--probe-timeout", "1", cwd=tmp_path)
    assert human.returncode == 3
    lines = human.stdout.splitlines()
    assert any(ln.startswith("FAIL target down") for ln in lines) and any("fix: start it" in ln for ln in lines)
    assert human.stderr.strip() == "lakectl: error: 1 check(s) failed: target down"


def test_doctor_names_a_broken_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets: [oops\n")
    proc = lakectl("--config", str(bad), "doctor", "--json", cwd=tmp_path)
    by = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert proc.returncode == 3 and by["config"]["status"] == "fail" and "invalid YAML" in by["config"]["detail"]
