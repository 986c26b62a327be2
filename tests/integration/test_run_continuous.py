"""`lakectl run --continuous` over a real broker: one process streams Kafka -> bronze -> silver -> gold; events
produced while it runs reach gold with the right totals; SIGTERM stops every stream (exit 130, ledger
`interrupted`); a restart resumes from the checkpoints, and gold then equals a batch `run` over the same
input, row for row."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.spark, pytest.mark.e2e]

GOLD = ["customer_behavior_daily", "product_performance_daily", "funnel_daily", "kpi_hourly", "sentiment_daily"]


def _config(tmp_path: Path, name: str, bootstrap: str, topic: str) -> Path:
    config = tmp_path / f"{name}.yaml"
    config.write_text(
        f"storage:\n  root: {tmp_path / name}\n"
        "targets:\n  local:\n    kind: local\n    shuffle_partitions: 2\n"
        "    spark_conf:\n      spark.databricks.delta.snapshotPartitions: '2'\n"
        f"sources:\n  kafka:\n    bootstrap_servers: '{bootstrap}'\n    topics: ['{topic}']\n"
    )
    return config


def _produce(broker, topic: str, n: int, seed: int) -> None:
    from lakectl.datagen.events import iter_event_lines
    from lakectl.datagen.kafka import produce_lines

    produce_lines({"bootstrap.servers": broker.bootstrap}, topic, iter_event_lines(n, seed=seed))


def _gold(root: Path, table: str) -> list[dict]:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:  # a table being created has a _delta_log folder before its first commit
        return DeltaTable(str(root / "tables" / "gold" / table)).to_pyarrow_table().to_pylist()
    except TableNotFoundError:
        return []


def _gold_events(root: Path) -> int:
    return sum(int(r["events"]) for r in _gold(root, "kpi_hourly"))


def _start(config: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "lakectl",
        "--config",
        str(config),
        "run",
        "--source",
        "kafka",
        "--continuous",
        "--trigger-interval",
        "1 second",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("w"), env=env)


def _wait_for(predicate, proc: subprocess.Popen, log: Path, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"run --continuous ended with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(1.0)
    proc.kill()
    pytest.fail(f"timed out; stderr:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen, log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=120) == 130, log.read_text()[-3000:]
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"SIGTERM did not stop the run within 120 s:\n{log.read_text()[-3000:]}")
    return log.read_text()


def _sorted(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


@pytest.mark.timeout(1800)  # three JVM starts and a batch run; ~4 min on a quiet machine
def test_run_continuous_streams_kafka_to_gold_stops_on_sigterm_and_resumes(tmp_path, kafka_broker):
    from deltalake import DeltaTable

    topic = "run-continuous"
    kafka_broker.create_topic(topic, 2)
    config = _config(tmp_path, "live", kafka_broker.bootstrap, topic)
    root = tmp_path / "live"
    _produce(kafka_broker, topic, 400, seed=1)

    log = tmp_path / "first.log"
    proc = _start(config, log)
    _wait_for(lambda: _gold_events(root) == 400, proc, log)
    _produce(kafka_broker, topic, 300, seed=2)  # while it runs: these reach gold without a new command
    _wait_for(lambda: _gold_events(root) == 700, proc, log)
    stderr = _stop(proc, log)
    assert "stopped by SIGTERM" in stderr

    runs = [r for r in DeltaTable(str(root / "tables" / "ops" / "runs")).to_pyarrow_table().to_pylist() if r["command"] == "run"]
    assert [r["status"] for r in runs] == ["interrupted"]
    stages = {
        r["command"]: r for r in DeltaTable(str(root / "tables" / "ops" / "runs")).to_pyarrow_table().to_pylist() if r.get("parent_run_id")
    }
    assert stages["ingest"]["rows_out"] == 700 and stages["ingest"]["status"] == "interrupted"
    gold_batches = [
        r for r in DeltaTable(str(root / "tables" / "ops" / "stream_progress")).to_pyarrow_table().to_pylist() if r["stream"] == "aggregate"
    ]
    assert gold_batches and all(r["newest_event_time"] is not None for r in gold_batches if r["num_input_rows"])

    _produce(kafka_broker, topic, 200, seed=3)  # while stopped: the restart picks them up from its checkpoints
    log = tmp_path / "second.log"
    proc = _start(config, log)
    _wait_for(lambda: _gold_events(root) == 900, proc, log)
    _stop(proc, log)

    batch_config = _config(tmp_path, "batch", kafka_broker.bootstrap, topic)
    done = subprocess.run(
        [sys.executable, "-m", "lakectl", "--config", str(batch_config), "run", "--source", "kafka", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for table in GOLD:
        assert _sorted(_gold(root, table)) == _sorted(_gold(tmp_path / "batch", table)), table
