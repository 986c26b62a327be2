"""`ingest --dry-run` says what a run would read (issue 31, item 9): the landing files no checkpoint has taken
yet, and for Kafka it asks the broker (an unreachable one is a warning saying a run would exit 4)."""

from __future__ import annotations

import json
import socket

from typer.testing import CliRunner

from lakectl.cli.app import build
from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job


def test_files_dry_run_counts_the_pending_landing_files(tmp_path):
    s = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}})
    landing = s.storage.landing_dir
    run_job(JobContext(settings=s), "generate", {"events": 300, "file_rows": 100, "out": str(landing)})
    files = [f for f in (landing / "events").iterdir() if f.is_file()]
    plan = run_job(JobContext(settings=s), "ingest", {"dry_run": True})
    assert plan.dry_run and plan.metrics["pending_files"] == len(files) >= 3
    assert not (s.storage.checkpoints_dir / "ingest").exists()  # a dry run creates no checkpoint


def test_kafka_dry_run_probes_the_broker(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = tmp_path / "lakectl.yaml"
    config.write_text(
        f"storage:\n  root: {tmp_path / 'lake'}\nsources:\n  kafka:\n    bootstrap_servers: 127.0.0.1:{port}\n    topics: [e]\n"
    )
    args = ["--config", str(config), "ingest", "--source", "kafka", "--dry-run"]
    result = CliRunner().invoke(build(), args, env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "refused the connection" in result.output and "a run would exit 4" in result.output
    doc = json.loads(CliRunner().invoke(build(), [*args, "--json"], env={"COLUMNS": "200"}).stdout)
    assert doc["broker"] == "unreachable" and doc["source_options"]  # the plan still shows (it never asked before)
