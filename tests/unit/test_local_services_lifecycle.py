"""lakectl.services.local.local_services stops what it started however the block ends: one service failing
to start, an error in the block, SIGTERM. Real processes and ports, not the JVMs: LAKECTL_SCRIPTS_DIR points
at stand-in kafka-local / uc-local scripts with the same commands, each serving HTTP on its loopback ports
(the Kafka one on PORT and the controller port, the catalog one on UC_PORT and UC_PORT+1)."""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import pytest

from lakectl.services.scripts import ServiceError, port_open

# PORTS, PID_FILE, ADDR and FAIL_VAR are set per script below; the rest is shared.
COMMON = textwrap.dedent(
    """
    set -euo pipefail
    mkdir -p "$DATA"
    case "${1:-}" in
      fetch) echo "$DATA" ;;
      start)
        [[ -n "${!FAIL_VAR:-}" ]] && { echo "$NAME: broker failed to start: java process exited" >&2; exit 1; }
        : >"$PID_FILE"
        for p in $PORTS; do
          nohup python3 -m http.server "$p" --bind 127.0.0.1 >/dev/null 2>&1 </dev/null &
          echo $! >>"$PID_FILE"
        done
        for p in $PORTS; do
          for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.05; done
        done
        echo "$ADDR" >"$DATA/$ADDR_FILE"
        echo "$ADDR" ;;
      stop)
        [[ -f "$PID_FILE" ]] || { echo "$NAME: not running" >&2; exit 0; }
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$PID_FILE"
        while read -r pid; do while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done <"$PID_FILE"
        rm -f "$PID_FILE"; echo "$NAME: stopped" >&2 ;;
      status) [[ -f "$PID_FILE" ]] ;;
    esac
    """
)
KAFKA = """#!/usr/bin/env bash
NAME=kafka-local DATA=$KAFKA_DATA_DIR FAIL_VAR=FAKE_FAIL_KAFKA ADDR_FILE=bootstrap
PORTS="$KAFKA_PORT $KAFKA_CONTROLLER_PORT" PID_FILE=$KAFKA_DATA_DIR/kafka.pid ADDR=127.0.0.1:$KAFKA_PORT
"""
UC = """#!/usr/bin/env bash
NAME=uc-local DATA=$UC_DATA_DIR FAIL_VAR=FAKE_FAIL_UC ADDR_FILE=url
PORTS="$UC_PORT $((UC_PORT + 1))" PID_FILE=$UC_DATA_DIR/uc.pid ADDR=http://127.0.0.1:$((UC_PORT + 1))
"""


@pytest.fixture
def fake_scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name, head in (("kafka-local", KAFKA), ("uc-local", UC)):
        (folder / name).write_text(head + COMMON)
    monkeypatch.setenv("LAKECTL_SCRIPTS_DIR", str(folder))
    monkeypatch.setenv("JAVA", "true")  # the Java check passes: no JVM starts here
    return folder


def _alive(pid_file: Path) -> list[int]:
    if not pid_file.exists():
        return []
    return _alive_pids([int(p) for p in pid_file.read_text().split()])


def _alive_pids(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    return alive


def _uc_pids(root: Path) -> Path:
    return root / "uc" / "uc.pid"


def test_both_run_inside_the_block_and_are_stopped_after_it(fake_scripts, tmp_path):
    from lakectl.services.local import local_services

    with local_services(tmp_path / "lake") as services:
        ports = services.ports()
        assert len(set(ports)) == 4 and all(port_open(p) for p in ports)
        assert services.describe()["kafka"]["state"] == "running"
    assert not [p for p in ports if port_open(p)] and services.state == "stopped" and services.problems == []
    assert services.describe()["unity_catalog"]["state"] == "stopped"


def test_when_one_service_fails_to_start_the_other_is_stopped(fake_scripts, tmp_path, monkeypatch):
    from lakectl.services.local import local_services

    monkeypatch.setenv("FAKE_FAIL_KAFKA", "1")
    root = tmp_path / "lake"
    with pytest.raises(ServiceError) as failed:
        with local_services(root):
            pytest.fail("the block must not run when a service did not start")
    assert failed.value.message == "Kafka: kafka-local start exited 1: broker failed to start: java process exited"
    assert failed.value.exit_code == 3
    assert (root / "uc" / "url").exists(), "the catalog had started"
    assert not (root / "uc" / "uc.pid").exists(), "and was stopped"


def test_an_error_in_the_block_stops_both(fake_scripts, tmp_path):
    from lakectl.services.local import local_services

    with pytest.raises(RuntimeError, match="a stage failed"):
        with local_services(tmp_path / "lake") as services:
            ports, pid_file = services.ports(), _uc_pids(tmp_path / "lake")
            pids = _alive(pid_file)
            raise RuntimeError("a stage failed")
    assert pids and not [p for p in ports if port_open(p)] and not _alive(pid_file) and not pid_file.exists()


def test_sigterm_in_the_block_interrupts_it_and_stops_both(fake_scripts, tmp_path):
    from lakectl.services.local import local_services

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with local_services(tmp_path / "lake") as services:
            ports = services.ports()
            os.kill(os.getpid(), signal.SIGTERM)
            pytest.fail("SIGTERM must end the block")
    assert not [p for p in ports if port_open(p)]
    assert signal.getsignal(signal.SIGTERM) is before, "the process's own SIGTERM handling is back"


def test_a_service_left_running_by_a_killed_demo_is_stopped_before_starting_again(fake_scripts, tmp_path):
    """kill -9 of the demo leaves its services running; the next demo on the same root stops them first."""
    from lakectl.services.kafka import start_broker
    from lakectl.services.local import local_services

    root = tmp_path / "lake"
    orphan = start_broker(root / "kafka")
    orphan_pids = _alive(root / "kafka" / "kafka.pid")
    try:
        assert all(port_open(p) for p in orphan.ports)
        with local_services(root) as services:
            assert not [p for p in orphan.ports if p not in services.ports() and port_open(p)], "the orphan was stopped"
        assert not [p for p in services.ports() if port_open(p)]
    finally:
        for pid in _alive_pids(orphan_pids):  # none when the demo's start stopped it
            os.kill(pid, signal.SIGKILL)
