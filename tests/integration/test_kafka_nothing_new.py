"""Against a real broker: `generate --to kafka` writes the dimensions its events refer to and reports
what it wrote; a Kafka ingest with nothing new is answered without a JVM, and anything new (a
record, a partition) or any doubt sends it to Spark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job
from lakectl.pipeline.sources.kafka import kafka_spec
from lakectl.pipeline.sources.kafka_offsets import nothing_new

pytestmark = pytest.mark.kafka

WATCH_IMPORTS = (
    "import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write('PYSPARK_IMPORTED\\n' if 'pyspark' in sys.modules else 'no pyspark\\n')); "
    "sys.argv = ['lakectl'] + sys.argv[1:]; runpy.run_module('lakectl', run_name='__main__')"
)


def lake_config(tmp_path: Path, bootstrap: str, topic: str) -> tuple[dict, Path]:
    raw = {"storage": {"root": str(tmp_path / "lake")}, "sources": {"kafka": {"bootstrap_servers": bootstrap, "topics": [topic]}}}
    path = tmp_path / "lakectl.yaml"
    path.write_text(json.dumps(raw))  # JSON is YAML
    return raw, path


def topics(bootstrap: str) -> set[str]:
    from confluent_kafka.admin import AdminClient

    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def topic_records(bootstrap: str, topic: str) -> list[bytes]:
    """Every record of the topic, read with a plain consumer up to the end offsets."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-read", "enable.auto.commit": False})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        consumer.assign([TopicPartition(topic, p, 0) for p in parts])
        values, done = [], {p for p, end in ends.items() if end == 0}
        deadline = time.monotonic() + 60
        while len(done) < len(parts) and time.monotonic() < deadline:
            for msg in consumer.consume(1000, timeout=1.0):
                if msg.error() is None:
                    values.append(msg.value())
                    if msg.offset() + 1 >= ends[msg.partition()]:
                        done.add(msg.partition())
        assert len(done) == len(parts), "topic not read to its end"
        return values
    finally:
        consumer.close()


def test_generate_to_kafka_writes_the_dimensions_and_reports_what_it_wrote(tmp_path, kafka_broker):
    topic = "gen-dims"
    raw, _ = lake_config(tmp_path, kafka_broker.bootstrap, topic)
    ctx = JobContext(settings=settings_from_dict(raw))
    params = {
        "events": 3000,
        "seed": 5,
        "start": "2026-11-01T00:00:00Z",
        "bad_fraction": 0.02,
        "duplicate_fraction": 0.05,
        "to": "kafka",
        "partitions": 2,
    }
    dry = run_job(ctx, "generate", {**params, "dry_run": True})
    landing = ctx.settings.storage.landing_dir
    assert not landing.exists() and topic not in topics(kafka_broker.bootstrap)  # a dry run writes nothing
    ran = run_job(ctx, "generate", params)

    figures = ("events", "valid_events", "bad_records", "duplicates", "bad_by_kind", "event_types", "customers", "products")
    assert {k: dry.metrics[k] for k in figures} == {k: ran.metrics[k] for k in figures}
    assert dry.rows_written == ran.rows_written == ran.metrics["events"] > 3000  # duplicates are lines too
    assert ran.metrics["duplicates"] > 0 and ran.metrics["dimension_files"] == dry.metrics["dimension_files"]

    records = topic_records(kafka_broker.bootstrap, topic)
    assert len(records) == ran.rows_written
    customers = [json.loads(line) for line in (landing / "customers").glob("*.jsonl") for line in line.read_text().splitlines()]
    products = [json.loads(line) for line in (landing / "products").glob("*.jsonl") for line in line.read_text().splitlines()]
    assert sorted(str(landing / d / f.name) for d in ("customers", "products") for f in (landing / d).iterdir()) == sorted(
        ran.metrics["dimension_files"]
    )
    assert (len(customers), len(products)) == (ran.metrics["customers"], ran.metrics["products"])
    # every event's customer and product is in the dimensions transform reads from the landing folder
    events = []
    for value in records:
        try:
            events.append(json.loads(value))
        except ValueError:
            continue
    assert {e["customer_id"] for e in events if e.get("customer_id")} <= {c["customer_id"] for c in customers}
    assert {e["product_id"] for e in events if e.get("product_id")} <= {p["product_id"] for p in products}

    # the same events as `generate` to files with the same arguments (same dimension file names too)
    files = run_job(ctx, "generate", {**params, "to": "files", "out": str(tmp_path / "as-files")})
    assert files.rows_written == ran.rows_written
    as_files = sorted(line for f in (tmp_path / "as-files" / "events").glob("*.jsonl") for line in f.read_text().splitlines())
    assert as_files == sorted(r.decode() for r in records)
    for name in ("customers", "products"):
        assert {f.name: f.read_text() for f in (tmp_path / "as-files" / name).iterdir()} == {
            f.name: f.read_text() for f in (landing / name).iterdir()
        }


def write_batch(cp: Path, batch: int, offsets: dict, *, commit: bool = True) -> None:
    """One batch in Spark's checkpoint layout (see tests/unit/test_kafka_precheck.py)."""
    (cp / "offsets").mkdir(parents=True, exist_ok=True)
    (cp / "commits").mkdir(parents=True, exist_ok=True)
    (cp / "offsets" / str(batch)).write_text(f'v1\n{{"batchWatermarkMs":0,"batchTimestampMs":{batch}}}\n{json.dumps(offsets)}')
    if commit:
        (cp / "commits" / str(batch)).write_text('v1\n{"nextBatchWatermarkMs":0}')


def test_nothing_new_compares_the_checkpoint_with_the_end_offsets(tmp_path, kafka_broker):
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewPartitions

    from lakectl.datagen.kafka import ensure_topic

    topic = "precheck"
    ensure_topic({"bootstrap.servers": kafka_broker.bootstrap}, topic, 2)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(30):
        producer.produce(topic, value=b"{}", partition=i % 2)
    assert producer.flush(30) == 0
    spec = kafka_spec(settings_from_dict({}).sources.kafka, topics=[topic], bootstrap=kafka_broker.bootstrap)
    cp = tmp_path / "offsets"

    write_batch(cp, 0, {topic: {"0": 10, "1": 15}})
    assert nothing_new(spec, cp) is None  # partition 0 has 5 more records
    write_batch(cp, 1, {topic: {"0": 15, "1": 15}}, commit=False)
    assert nothing_new(spec, cp) is None  # read to the end, but not committed: Spark replays batch 1
    (cp / "commits" / "1").write_text("v1\n{}")
    started = time.monotonic()
    assert nothing_new(spec, cp) == {(topic, 0): 15, (topic, 1): 15}
    assert time.monotonic() - started < 2

    producer.produce(topic, value=b"{}", partition=1)  # one more event
    assert producer.flush(30) == 0
    assert nothing_new(spec, cp) is None
    write_batch(cp, 2, {topic: {"0": 15, "1": 16}})
    assert nothing_new(spec, cp) is not None

    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    admin.create_partitions([NewPartitions(topic, 3)])[topic].result(timeout=30)
    assert nothing_new(spec, cp) is None  # a new, empty partition: Spark adds it to the stream
    write_batch(cp, 3, {topic: {"0": 15, "1": 16, "2": 0}})
    assert nothing_new(spec, cp) is not None

    other = kafka_spec(settings_from_dict({}).sources.kafka, topics=[topic, "precheck-other"], bootstrap=kafka_broker.bootstrap)
    assert nothing_new(other, cp) is None  # another topic set
    down = kafka_spec(settings_from_dict({}).sources.kafka, topics=[topic], bootstrap="127.0.0.1:1")
    started = time.monotonic()
    assert nothing_new(down, cp, timeout=1.0) is None  # a broker that does not answer: Spark's path reports it
    assert time.monotonic() - started < 5


@pytest.mark.spark
def test_a_caught_up_kafka_ingest_starts_no_jvm(tmp_path, kafka_broker, spark):
    from confluent_kafka import Producer

    topic = "ingest-noop"
    raw, config = lake_config(tmp_path, kafka_broker.bootstrap, topic)
    ctx = JobContext(settings=settings_from_dict(raw), _spark=spark)
    gen = run_job(ctx, "generate", {"events": 400, "to": "kafka", "partitions": 2})
    assert run_job(ctx, "ingest", {"source": "kafka"}).rows_written == gen.metrics["valid_events"]

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", WATCH_IMPORTS, "--config", str(config), "ingest", "--source", "kafka", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["rows_written"], doc["batches"]) == (0, 0) and doc["note"].startswith("nothing to do:"), doc
    assert "no Spark started" in doc["note"] and "no pyspark" in proc.stderr
    assert took < 5, f"the no-op took {took:.1f}s"

    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(
        topic, value=json.dumps({"event_id": "one-more", "event_type": "click", "event_time": "2026-01-01T00:00:00Z"}).encode()
    )
    assert producer.flush(30) == 0
    spec = kafka_spec(ctx.settings.sources.kafka)
    assert nothing_new(spec, ctx.settings.storage.checkpoints_dir / "ingest" / "kafka" / "offsets") is None
    assert run_job(ctx, "ingest", {"source": "kafka"}).rows_written == 1  # the pre-check sent it to Spark


def test_ingest_dry_run_shows_the_pending_offsets_per_partition(tmp_path, kafka_broker):
    """Issue 31, item 9: `ingest --dry-run` asks the broker and says how many records a run would read."""
    topic = "dry-pending"
    raw, _ = lake_config(tmp_path, kafka_broker.bootstrap, topic)
    ctx = JobContext(settings=settings_from_dict(raw))
    ran = run_job(ctx, "generate", {"events": 500, "seed": 3, "to": "kafka", "topic": topic, "partitions": 2})
    plan = run_job(ctx, "ingest", {"source": "kafka", "dry_run": True})
    assert plan.metrics["pending_records"] == ran.rows_written == len(topic_records(kafka_broker.bootstrap, topic))
    assert set(plan.metrics["pending_by_partition"]) == {f"{topic}-0", f"{topic}-1"}
    assert not (ctx.settings.storage.checkpoints_dir / "ingest").exists()
