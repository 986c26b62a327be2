"""`lakectl demo --with-services`: the local Kafka broker and Unity Catalog server started and stopped by the
demo, the events ingested from a Kafka topic, the example policy applied; and the ways it can go wrong
(interrupted, no java, no jars) end with both services stopped or never started, in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[2]


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("UC_TOKEN", "KAFKA_BOOTSTRAP_SERVERS", "UC_URL")}
    return {**env, "LAKECTL_ROOT": str(root), "LAKECTL_CONFIG": str(REPO / "configs" / "lakectl.yaml"), **extra}


def lakectl(*args: str, root: Path, timeout: int = 900, **extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lakectl", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(root, **extra), cwd=root.parent)


def _open(port: int) -> bool:
    from lakectl.services.scripts import port_open

    return port_open(port, timeout=0.5)


def _gone(root: Path, timeout: float = 60.0) -> bool:
    """No JVM under `root` within `timeout`: the demo's own Spark JVM exits a moment after its Python parent
    (it notices its stdin closing), which on a loaded machine can take seconds."""
    deadline = time.monotonic() + timeout
    while _java_under(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    return not _java_under(root)


def _java_under(root: Path) -> list[int]:
    """Pids of JVMs whose command line names a folder under `root` (a service left running)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "java" in cmdline and str(root) in cmdline:
            pids.append(int(proc.name))
    return pids


@pytest.mark.spark
@pytest.mark.kafka
@pytest.mark.uc
def test_demo_with_services_ingests_from_kafka_applies_the_policy_and_stops_both(tmp_path):
    """2,000 events keep it bounded: too few reviews to train, so the demo skips train and score (its
    TooLittleTrainingData path, tested with the default demo) and shows the rest."""
    from deltalake import DeltaTable

    root = tmp_path / "lake"
    proc = lakectl("demo", "--with-services", "-n", "2000", "--json", root=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["status"] == "ok", doc
    assert [d["stage"] for d in doc["details"]] == ["generate", "ingest", "transform", "aggregate", "grant", "check", "report"]

    kafka = doc["kafka"]  # every generated event went through the topic and was ingested from it, once
    assert kafka["topic"] == "lakectl.events" and kafka["produced"] == 2000
    assert kafka["rows_ingested"] + kafka["rows_quarantined"] == kafka["produced"] and kafka["rows_quarantined"] > 0
    assert kafka["bootstrap"] == doc["services"]["kafka"]["bootstrap"], "produced to the demo's broker, not the config's"
    bronze = DeltaTable(str(root / "tables" / "bronze" / "events")).to_pyarrow_table(columns=["event_id"]).num_rows
    assert bronze == kafka["rows_ingested"]
    assert not (root / "landing" / "events").exists() or not any((root / "landing" / "events").iterdir()), "no event files"

    grants = doc["grants"]
    assert grants["policy"] == str(REPO / "configs" / "grants.yaml") and grants["changes_applied"] > 15
    assert "catalog lakehouse" in grants["seeded"] and "user etl-bot@example.com" in grants["seeded"]

    services = doc["services"]
    assert services["kafka"]["state"] == services["unity_catalog"]["state"] == "stopped"
    ports = services["kafka"]["ports"] + services["unity_catalog"]["ports"]
    assert len(set(ports)) == 4 and not [p for p in ports if _open(p)], "a service port is still open"
    assert _gone(root), f"a JVM outlived the demo: {_java_under(root)}"
    assert doc["where"]["kafka"] == f"{root / 'kafka'} (stopped)" and doc["where"]["catalog"] == f"{root / 'uc'} (stopped)"
    assert any("kafka-local start" in step for step in doc["next"]) and any("uc-local start" in step for step in doc["next"])

    # the grants are the server's: start it again on the demo's data and read them through its API
    from lakectl.services.uc import start_server

    server = start_server(root / "uc")
    try:
        admin = server.admin()
        assert admin.grants("table", "lakehouse.silver.events") == {
            "carol@example.com": ["SELECT"],
            "etl-bot@example.com": ["MODIFY", "SELECT"],
        }
        assert admin.grants("schema", "lakehouse.gold")["alice@example.com"] == ["USE SCHEMA"]
    finally:
        server.stop()


@pytest.mark.spark
@pytest.mark.kafka
@pytest.mark.uc
def test_demo_with_services_stopped_by_sigterm_stops_both_services(tmp_path):
    """SIGTERM to the demo alone (its JVMs get no signal) once the services are up: exit 130, both stopped."""
    root = tmp_path / "lake"
    root.mkdir()
    cmd = [sys.executable, "-m", "lakectl", "demo", "--with-services", "-n", "2000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(root), cwd=tmp_path)
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("lakectl: services ok"):
                break
        ports = [int((root / "kafka" / "bootstrap").read_text().rsplit(":", 1)[1])]
        ports.append(int((root / "uc" / "url").read_text().rsplit(":", 1)[1]))
        assert all(_open(p) for p in ports), "".join(lines)
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(lines) + rest
    assert rest.strip().splitlines()[-1] == "lakectl: interrupted" and "Traceback" not in rest, rest
    deadline = time.monotonic() + 5
    while [p for p in ports if _open(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in ports if _open(p)] and _gone(root)


def test_demo_with_services_without_java_says_so_in_one_line_and_starts_nothing(tmp_path):
    root = tmp_path / "lake"
    proc = lakectl("demo", "--with-services", "-n", "100", root=root, timeout=120, JAVA=str(tmp_path / "no-java"))
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"lakectl: error: java not found ({tmp_path / 'no-java'}) (hint: install Java 17 or set JAVA_HOME; "
        "the local Kafka and Unity Catalog run on it)"
    ]
    assert not (root / "tables" / "bronze").exists() and not (root / "kafka").exists()


def test_demo_with_services_without_cached_jars_or_network_says_so_in_one_line(tmp_path):
    """An empty jar cache and a mvn that cannot reach its repository: exit 3, one line naming the fetch."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mvn").write_text("#!/bin/sh\necho 'Could not transfer artifact: network is unreachable' >&2\nexit 1\n")
    (bin_dir / "mvn").chmod(0o755)
    root = tmp_path / "lake"
    extra = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "LAKECTL_CACHE": str(tmp_path / "empty-cache"),
        "LAKECTL_UC_SERVER_JAR": str(tmp_path / "no-such.jar"),
    }
    proc = lakectl("demo", "--with-services", "-n", "100", "--json", root=root, timeout=300, **extra)
    assert proc.returncode == 3, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("lakectl: error: Kafka: kafka-local fetch exited 1: fetch failed: mvn could not resolve"), line
    assert "fetched once with mvn and need the network" in line
    assert json.loads(proc.stdout)["error"]["exit_code"] == 3
    assert _java_under(root) == [] and not (root / "tables" / "bronze").exists()


def test_demo_with_services_dry_run_names_the_services_and_starts_nothing(tmp_path):
    root = tmp_path / "lake"
    proc = lakectl("demo", "--with-services", "--dry-run", "--json", root=root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["would_run"] == ["services", "generate", "ingest", "transform", "aggregate", "train", "score", "grant", "check", "report"]
    assert doc["where"]["kafka"] == str(root.absolute() / "kafka") and doc["where"]["catalog"] == str(root.absolute() / "uc")
    assert not root.exists()
