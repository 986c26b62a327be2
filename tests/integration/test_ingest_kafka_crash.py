"""kill -9 the whole ingest process group (Python + JVM) at random moments while a producer writes to
a 3-partition topic, restart each time: bronze ends with exactly the produced events, no gaps."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.spark, pytest.mark.e2e]

EVENTS = 20_000
KILLS = 3
PRODUCE_SECONDS = 60.0


def _commits(checkpoint: Path) -> int:
    d = checkpoint / "offsets" / "commits"
    return sum(1 for f in d.iterdir() if f.name.isdigit()) if d.is_dir() else 0


def _in_flight(checkpoint: Path) -> bool:
    """A planned batch (offsets/N) whose commit (commits/N) is not written yet."""
    offsets, commits = checkpoint / "offsets" / "offsets", checkpoint / "offsets" / "commits"
    planned = {f.name for f in offsets.iterdir() if f.name.isdigit()} if offsets.is_dir() else set()
    done = {f.name for f in commits.iterdir() if f.name.isdigit()} if commits.is_dir() else set()
    return bool(planned - done)


def _produce(bootstrap: str, topic: str, lines: list[str], stop: threading.Event) -> None:
    from lakectl.datagen.kafka import produce_lines

    chunk = max(1, int(len(lines) / PRODUCE_SECONDS))
    for i in range(0, len(lines), chunk):
        if stop.is_set():
            return
        produce_lines({"bootstrap.servers": bootstrap}, topic, lines[i : i + chunk])
        time.sleep(1.0)


def test_kill_9_during_stream_loses_and_duplicates_nothing(ctx, kafka_broker, tmp_path):
    from confluent_kafka import Consumer, TopicPartition
    from deltalake import DeltaTable

    from lakectl.core.errors import CheckpointConflict
    from lakectl.datagen.events import iter_event_lines
    from lakectl.jobs import run_job

    topic = "crash-test"
    kafka_broker.create_topic(topic, 3)
    lines = list(iter_event_lines(EVENTS, seed=7))
    produced_ids = [ln[len('{"event_id":"') : ln.index('"', len('{"event_id":"'))] for ln in lines]
    assert len(set(produced_ids)) == EVENTS

    root = ctx.settings.storage.root_dir
    config = tmp_path / "lakectl.yaml"
    # Few tasks per Delta snapshot and shuffle: the test machines have 2 cores.
    config.write_text(
        f"storage:\n  root: {root}\ntargets:\n  local:\n    kind: local\n    shuffle_partitions: 2\n"
        f"    spark_conf:\n      spark.databricks.delta.snapshotPartitions: '2'\n"
    )
    checkpoint = root / "checkpoints" / "ingest" / "kafka"
    cmd = [
        sys.executable,
        "-m",
        "lakectl",
        "--config",
        str(config),
        "ingest",
        "--source",
        "kafka",
        "--topic",
        topic,
        "--bootstrap-servers",
        kafka_broker.bootstrap,
        "--max-offsets-per-trigger",
        "1500",
        "--continuous",
        "--trigger-interval",
        "1 second",
        "--json",
    ]
    env = {**os.environ, "LAKECTL_DRIVER_MEMORY": "1g"}

    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(kafka_broker.bootstrap, topic, lines, stop), daemon=True)
    producer.start()
    rng = random.Random()
    killed_in_flight = 0
    try:
        for k in range(KILLS):
            before = _commits(checkpoint)
            with open(tmp_path / f"ingest-{k}.log", "w") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            try:
                deadline = time.monotonic() + 420
                while _commits(checkpoint) <= before and time.monotonic() < deadline and proc.poll() is None:
                    time.sleep(0.2)
                assert proc.poll() is None, (tmp_path / f"ingest-{k}.log").read_text()[-2000:]
                assert _commits(checkpoint) > before, "the restarted ingest never committed a batch"
                if k == 0:  # a second process on the same checkpoint is refused while this one runs
                    with pytest.raises(CheckpointConflict, match=f"in use by pid {proc.pid}"):
                        run_job(ctx, "ingest", {"source": "kafka", "topics": [topic], "bootstrap_servers": kafka_broker.bootstrap})
                    # while it runs, monitor streams sees it running, with the batches it has finished so far
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        health = next(s for s in run_job(ctx, "monitor", {"action": "streams"}).details if s["source"] == "kafka")
                        if health["last_batch_id"] is not None:
                            break
                        time.sleep(0.5)
                    assert proc.poll() is None and health["state"] == "running", health
                    assert health["last_batch_id"] is not None and health["backlog_records"] is not None, health
                    # ... and the rates of its finished batches, which ingest records per batch while it runs
                    while health["last_batch_rows"] is None and time.monotonic() < deadline:
                        time.sleep(0.5)
                        health = next(s for s in run_job(ctx, "monitor", {"action": "streams"}).details if s["source"] == "kafka")
                    assert proc.poll() is None and health["last_batch_rows"] is not None, health
                time.sleep(rng.uniform(0.0, 4.0))
                killed_in_flight += _in_flight(checkpoint)
            finally:
                os.killpg(proc.pid, signal.SIGKILL)  # Python and its JVM together
                proc.wait(30)
            for _ in range(50):  # the whole group is gone, JVM included
                try:
                    os.killpg(proc.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the ingest process group survived kill -9")
    finally:
        producer.join(PRODUCE_SECONDS * 3)
        stop.set()
    assert not producer.is_alive()

    # Restart once more and drain (in this process: same checkpoint, same source).
    final = run_job(ctx, "ingest", {"source": "kafka", "topics": [topic], "bootstrap_servers": kafka_broker.bootstrap})
    assert final.status == "ok"

    bronze = (
        DeltaTable(str(root / "tables" / "bronze" / "events"))
        .to_pyarrow_table(columns=["event_id", "kafka_partition", "kafka_offset"])
        .to_pylist()
    )
    ids = [r["event_id"] for r in bronze]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} duplicated events"
    assert set(ids) == set(produced_ids), f"{len(set(produced_ids) - set(ids))} lost events"

    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": "crash-check"})
    try:
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False) for p in range(3)}
    finally:
        consumer.close()
    for p, (low, high) in ends.items():
        offsets = sorted(r["kafka_offset"] for r in bronze if r["kafka_partition"] == p)
        assert offsets == list(range(low, high)), f"partition {p}: gaps or extras in offsets"
    print(f"kills={KILLS} killed_with_batch_in_flight={killed_in_flight} events={EVENTS}")
