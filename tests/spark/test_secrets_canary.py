"""Secrets never leak: every secret the config can reference is set to a unique canary string, every
command runs (real subprocesses, real Spark, with and without --verbose, including failing paths:
unreachable Kafka / Event Hubs / Spark Connect / webhook / SMTP, a Spark error, a Databricks target),
and no canary may appear in stdout, stderr, any file under the lake root (Spark logs, checkpoints,
tables, alert state), the rows of ops.runs read back with delta-rs, or the HTML report.

One lake is shared by the whole module; the Spark-using commands start three JVMs in the default run.
Every command of the exhaustive variant (LAKECTL_EXHAUSTIVE=1) runs both with and without --verbose."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.e2e]
EXHAUSTIVE = bool(os.environ.get("LAKECTL_EXHAUSTIVE"))
STEM = f"cnry{uuid.uuid4().hex[:10]}"  # every canary contains it: one search finds any of them


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _closed_port()
CANARIES = {
    "KAFKA_JAAS": f'org.apache.kafka.common.security.plain.PlainLoginModule required username="lakectl" password="{STEM}-kafka";',
    "KAFKA_TRUSTSTORE_PASSWORD": f"{STEM}-truststore",
    "EVENTHUBS_CONNECTION_STRING": f"Endpoint=sb://127.0.0.1:{PORT}/;SharedAccessKeyName=lakectl;SharedAccessKey={STEM}-eventhubs",
    "LAKECTL_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{PORT}/services/T000/B000/{STEM}-webhook",
    "LAKECTL_SMTP_PASSWORD": f"{STEM}-smtp",
    "DATABRICKS_TOKEN": f"dapi{STEM}-databricks",
    "MLFLOW_TRACKING_TOKEN": f"{STEM}-mlflow",
    "LAKECTL_SC_URL": f"sc://127.0.0.1:{PORT}/;token={STEM}-connect;user_id=lakectl",
    "UC_TOKEN": f"{STEM}-uc",
}
SECRET_PARTS = [
    f"{STEM}-{name}" for name in ("kafka", "truststore", "eventhubs", "webhook", "smtp", "databricks", "mlflow", "connect", "uc")
]

CONFIG = f"""
default_target: local
targets:
  local: {{kind: local, driver_memory: 1g, shuffle_partitions: 2}}
  connect: {{kind: spark, remote: "${{LAKECTL_SC_URL}}", connect_timeout_s: 0.5}}
  dbx: {{kind: databricks, host: "https://127.0.0.1:{PORT}", cluster_id: "0000-000000-canary", connect_timeout_s: 1}}
storage: {{root: "{{root}}"}}
sources:
  kafka:
    bootstrap_servers: "127.0.0.1:{PORT}"
    connect_timeout_s: 1
    options:
      kafka.security.protocol: SASL_PLAINTEXT
      kafka.sasl.mechanism: PLAIN
      kafka.sasl.jaas.config: "${{KAFKA_JAAS}}"
      kafka.ssl.truststore.password: "${{KAFKA_TRUSTSTORE_PASSWORD}}"
  eventhubs: {{namespace: "127.0.0.1:{PORT}", connect_timeout_s: 1}}
tables:
  silver.events: {{sla: {{freshness_minutes: 0.0001, min_pass_rate: 1.0}}}}
  gold.kpi_hourly: {{sla: {{freshness_minutes: 0.0001}}}}
monitor:
  record_read_only: true          # query and monitor rows in ops.runs too: the ledger is searched for the canary
  webhook_url: "${{LAKECTL_ALERT_WEBHOOK_URL}}"
  smtp_host: 127.0.0.1
  smtp_port: {PORT}
  smtp_to: [ops@example.invalid]
  smtp_user: lakectl
  renotify_minutes: 0.0001
"""


class Lake:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "lake"
        self.config = base / "lakectl.yaml"
        self.config.write_text(CONFIG.replace("{root}", str(self.root)))
        self.outputs: list[tuple[list[str], str]] = []  # (argv, stdout + stderr) of every command

    def run(
        self, *args: str, verbose: bool = False, timeout: int = 900, env: dict[str, str] | None = None, expect: set[int] | None = None
    ) -> subprocess.CompletedProcess[str]:
        argv = ["--config", str(self.config), *(["--verbose"] if verbose else []), *args]
        full_env = {**os.environ, **CANARIES, **(env or {}), "LAKECTL_CACHE": str(self.base / "cache")}
        full_env.pop("LAKECTL_TARGET", None)
        proc = subprocess.run(
            [sys.executable, "-m", "lakectl", *argv], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=self.base
        )
        self.outputs.append((argv, proc.stdout + proc.stderr))
        if expect is not None:
            assert proc.returncode in expect, f"{argv}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
        return proc


def _hits(text: str) -> list[str]:
    return [part for part in SECRET_PARTS if part in text] or ([STEM] if STEM in text else [])


def _file_hits(root: Path) -> dict[str, list[str]]:
    out = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if STEM.encode() in data:
                out[str(path.relative_to(root))] = _hits(data.decode(errors="replace"))
    return out


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("canary"))
    both = [False, True] if EXHAUSTIVE else [True]

    # --- Spark: the pipeline, a Spark error, optimize (3 JVMs in the default run) ---
    lake.run("generate", "--events", "1000", "--bad-fraction", "0.02", expect={0})
    if EXHAUSTIVE:
        lake.run("ingest", "--source", "files", expect={0})
        lake.run("--json", "transform", verbose=True, expect={0})
        lake.run("aggregate", expect={0})
        lake.run("query", "SELECT count(*) AS n FROM silver.events", expect={0})
        lake.run("optimize", "silver.events", "--vacuum", verbose=True, expect={0})
    lake.run("--json", "run", verbose=True, expect={0})
    lake.run("query", "SELECT no_such_column FROM silver.events", verbose=True, expect={2})  # a Spark analysis error
    lake.run("optimize", "silver.events", "--zorder", "customer_id", expect={0})

    # --- failing sources and targets: no JVM (the probes fail first) ---
    for verbose in both:
        lake.run("ingest", "--source", "kafka", verbose=verbose, expect={4})  # unreachable broker, SASL
        lake.run("--json", "ingest", "--source", "kafka", "--dry-run", verbose=verbose, expect={0})  # prints its options
        lake.run("ingest", "--source", "eventhubs", verbose=verbose, expect={4})  # unreachable namespace
        lake.run("--json", "ingest", "--source", "eventhubs", "--dry-run", verbose=verbose, expect={0})
        lake.run("--target", "connect", "query", "SELECT 1", verbose=verbose, expect={4})  # token in the sc:// URL
        lake.run(
            "--target", "connect", "--json", "transform", "--batch", verbose=verbose, expect={4}
        )  # --batch: no nothing-to-do pre-check, Spark must start
        lake.run("--target", "dbx", "transform", verbose=verbose, expect={4})  # unreachable workspace
        lake.run("generate", "--to", "kafka", "--events", "10", "--bootstrap-servers", f"127.0.0.1:{PORT}", verbose=verbose, expect={4})

    # --- the newer commands: doctor probes every target and source; grant, the model registry, scoring
    # and the Databricks runner fail on their unreachable servers (no JVM) ---
    policy = str(Path(__file__).resolve().parents[2] / "configs" / "grants.yaml")
    for verbose in both:
        lake.run("doctor", "--probe-timeout", "0.5", verbose=verbose, expect={3})
        lake.run("grant", "plan", "--policy", policy, "--url", f"http://127.0.0.1:{PORT}", verbose=verbose, expect={4})
        lake.run("--json", "grant", "drift", "--policy", policy, "--url", f"http://127.0.0.1:{PORT}", verbose=verbose, expect={4})
        lake.run("model", "list", verbose=verbose, expect={4})
        lake.run("score", verbose=verbose, expect={4})
        lake.run("--target", "dbx", "deploy", "--dry-run", verbose=verbose, expect={4})
        lake.run("--target", "dbx", "runs", "status", "1", verbose=verbose, expect={4})

    # --- monitor: every subcommand; alerts fail on a closed webhook and SMTP port, then a malformed URL ---
    for verbose in both:
        for sub in (["runs"], ["tables"], ["streams"], ["quality"]):
            lake.run("monitor", *sub, verbose=verbose, expect={0})
            lake.run("--json", "monitor", *sub, verbose=verbose, expect={0})
        lake.run("monitor", "check", verbose=verbose, expect={7})
        lake.run("--json", "monitor", "check", "--junit", str(lake.base / "junit.xml"), verbose=verbose, expect={7})
        lake.run(
            "monitor", "check", verbose=verbose, expect={7}, env={"LAKECTL_ALERT_WEBHOOK_URL": f"127.0.0.1:{PORT}/services/{STEM}-webhook"}
        )  # no scheme: urllib quotes it
        lake.run("monitor", "report", "--html", str(lake.base / "report.html"), verbose=verbose, expect={0})
    return lake


def test_no_canary_in_stdout_or_stderr(lake):
    leaks = {" ".join(argv): _hits(text) for argv, text in lake.outputs if _hits(text)}
    assert not leaks, f"secrets printed: {json.dumps(leaks, indent=1)}"


def test_no_canary_in_any_file_under_the_lake(lake):
    assert any((lake.root / "logs").glob("*.log")), "the Spark commands left no log to search"
    assert (lake.root / "checkpoints").is_dir()
    assert not _file_hits(lake.root)


def test_no_canary_in_the_run_ledger(lake):
    from deltalake import DeltaTable

    rows = DeltaTable(str(lake.root / "tables" / "ops" / "runs")).to_pyarrow_table().to_pylist()
    commands = {r["command"] for r in rows}
    assert {"generate", "ingest", "transform", "aggregate", "query", "optimize", "monitor"} <= commands
    assert any(r["status"] == "failed" for r in rows), "the failing paths were recorded too"
    leaks = [r for r in rows if _hits(json.dumps(r, default=str))]
    assert not leaks


def test_no_canary_in_the_html_report_and_junit(lake):
    report = (lake.base / "report.html").read_text()
    assert "<svg" in report
    assert not _hits(report)
    assert not _hits((lake.base / "junit.xml").read_text())


def test_the_failing_paths_were_exercised(lake):
    """The canary proves nothing if the secrets were never used: each path must have failed where expected."""
    text = "\n".join(out for _, out in lake.outputs)
    assert "webhook alert not delivered" in text and "email alert not delivered" in text
    assert f"127.0.0.1:{PORT}" in text  # brokers and servers are named, only their secrets are not
    assert "sc://127.0.0.1" in text
    assert "Unity Catalog server at http://127.0.0.1" in text and "MLflow store not found" in text


@pytest.mark.kafka
def test_bad_credentials_against_a_real_broker_leak_nothing(tmp_path, kafka_broker):
    """SASL credentials offered to a real (PLAINTEXT) broker fail the handshake: the failure names the
    broker, never the credentials, with or without --verbose; the probe keeps it within seconds."""
    lake = Lake(tmp_path)  # its own: no Spark needed
    kafka_broker.create_topic("canary.events")
    for verbose in (False, True):
        proc = lake.run(
            "ingest",
            "--source",
            "kafka",
            "--bootstrap-servers",
            kafka_broker.bootstrap,
            "--topic",
            "canary.events",
            "--checkpoint",
            str(lake.base / f"cp-sasl-{verbose}"),
            verbose=verbose,
            timeout=120,
            expect={4},
        )
        assert kafka_broker.bootstrap in proc.stderr
        assert not _hits(proc.stdout + proc.stderr)
    assert not _file_hits(lake.base)
