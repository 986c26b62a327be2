"""`ingest --source kafka` against a real local broker: exactly once, Kafka coordinates kept, and
every way it must refuse (incompatible checkpoint, second process, unreachable broker, data loss)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.spark]


def bronze_rows(settings, table: str = "bronze.events", columns: list[str] | None = None) -> list[dict]:
    from deltalake import DeltaTable

    path = settings.table(table).path
    if not Path(path).exists():
        return []
    return DeltaTable(path).to_pyarrow_table(columns=columns).to_pylist()


def test_generate_to_kafka_then_ingest_exactly_once(ctx, kafka_broker):
    from confluent_kafka import Producer
    from deltalake import DeltaTable

    from lakectl.jobs import run_job

    topic = "ingest-once"
    gen = run_job(
        ctx,
        "generate",
        {"events": 3000, "bad_fraction": 0.02, "to": "kafka", "topic": topic, "partitions": 3, "bootstrap_servers": kafka_broker.bootstrap},
    )
    assert gen.rows_written == 3000 and gen.metrics["topic_created"] and gen.metrics["partitions"] == 3
    # One record with headers, one with a repeated header key, one that is not JSON at all.
    p = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    p.produce(
        topic,
        value=b'{"event_id":"hdr-1","event_type":"click","event_time":"2026-01-01T00:00:00Z"}',
        key=b"C1",
        headers=[("trace", b"abc"), ("trace", b"second"), ("origin", b"test")],
        partition=0,
    )
    p.produce(topic, value=b"\x00not json", key=None, partition=1)
    assert p.flush(30) == 0

    params = {"source": "kafka", "topics": [topic], "bootstrap_servers": kafka_broker.bootstrap, "max_offsets_per_trigger": 1200}
    first = run_job(ctx, "ingest", params)
    valid, bad = gen.metrics["valid_events"] + 1, gen.metrics["bad_records"] + 1
    assert (first.rows_written, first.rows_quarantined) == (valid, bad)
    assert first.metrics["batches"] >= 3, "maxOffsetsPerTrigger splits the backlog into micro-batches"
    # the uncompressed batch cache is set on the stream's own session, not on the caller's
    assert ctx.spark.conf.get("spark.sql.inMemoryColumnarStorage.compressed") == "true"

    rows = bronze_rows(
        ctx.settings,
        columns=[
            "event_id",
            "customer_id",
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_key",
            "kafka_timestamp",
            "kafka_headers",
            "raw",
            "source",
        ],
    )
    ids = [r["event_id"] for r in rows]
    assert len(ids) == len(set(ids)) == valid
    assert {r["kafka_partition"] for r in rows} == {0, 1, 2} and {r["kafka_topic"] for r in rows} == {topic}
    assert all(
        r["kafka_key"] == r["customer_id"] and r["raw"].startswith("{") and r["kafka_timestamp"] for r in rows if r["event_id"] != "hdr-1"
    )
    hdr = next(r for r in rows if r["event_id"] == "hdr-1")
    assert dict(hdr["kafka_headers"]) == {"trace": "abc", "origin": "test"}
    quarantined = bronze_rows(ctx.settings, "bronze.quarantine", ["raw", "reason", "kafka_partition", "kafka_offset"])
    assert len(quarantined) == bad and all(q["reason"] and q["kafka_offset"] is not None for q in quarantined)
    assert any(q["raw"].endswith("not json") and "malformed_json" in q["reason"] for q in quarantined)

    second = run_job(ctx, "ingest", params)
    assert (second.rows_written, second.rows_quarantined) == (0, 0)
    assert len(bronze_rows(ctx.settings, columns=["event_id"])) == valid

    # monitor streams: per-batch progress was recorded, and the backlog is the broker's end offsets
    # minus the checkpoint's committed offsets.
    stream = run_job(ctx, "monitor", {"action": "streams"}).details
    kafka = next(s for s in stream if s["source"] == "kafka")
    assert (kafka["state"], kafka["backlog_records"]) == ("stopped", 0)
    assert kafka["last_batch_id"] >= first.metrics["batches"] - 1 and kafka["last_batch_rows"] is not None
    for i in range(250):
        p.produce(
            topic,
            value=json.dumps({"event_id": f"late-{i}", "event_type": "click", "event_time": "2026-01-02T00:00:00Z"}).encode(),
            partition=i % 3,
        )
    assert p.flush(30) == 0
    kafka = next(s for s in run_job(ctx, "monitor", {"action": "streams"}).details if s["source"] == "kafka")
    assert kafka["backlog_records"] == 250
    assert sorted(v for k, v in kafka["backlog_detail"].items() if k.startswith(f"{topic}-")) == [83, 83, 84]
    quarantine_version = DeltaTable(ctx.settings.table("bronze.quarantine").path).version()
    assert run_job(ctx, "ingest", params).rows_written == 250
    # a batch without bad records commits nothing to the quarantine
    assert DeltaTable(ctx.settings.table("bronze.quarantine").path).version() == quarantine_version
    assert next(s for s in run_job(ctx, "monitor", {"action": "streams"}).details if s["source"] == "kafka")["backlog_records"] == 0

    # A partition added to the topic after the stream last ran is backlog too: the next batch reads it.
    from confluent_kafka.admin import AdminClient, NewPartitions

    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    admin.create_partitions([NewPartitions(topic, 4)])[topic].result(timeout=30)
    p = Producer({"bootstrap.servers": kafka_broker.bootstrap})  # a new client learns of partition 3
    for i in range(40):
        p.produce(
            topic,
            value=json.dumps({"event_id": f"newpart-{i}", "event_type": "click", "event_time": "2026-01-03T00:00:00Z"}).encode(),
            partition=3,
        )
    assert p.flush(30) == 0
    kafka = next(s for s in run_job(ctx, "monitor", {"action": "streams"}).details if s["source"] == "kafka")
    assert (kafka["backlog_records"], kafka["backlog_detail"][f"{topic}-3"]) == (40, 40)
    assert run_job(ctx, "ingest", params).rows_written == 40
    assert next(s for s in run_job(ctx, "monitor", {"action": "streams"}).details if s["source"] == "kafka")["backlog_records"] == 0

    # The same checkpoint for another topic is refused before anything is read.
    from lakectl.core.errors import CheckpointConflict

    kafka_broker.create_topic("ingest-other", 1)
    with pytest.raises(CheckpointConflict, match="belongs to another source"):
        run_job(ctx, "ingest", {**params, "topics": ["ingest-other"]})


def test_micro_batches_get_two_tasks_per_core_unless_configured(spark):
    from lakectl.config import settings_from_dict
    from lakectl.pipeline.sources.kafka import kafka_spec, read_stream

    def min_partitions(cfg: dict, fail_on_data_loss: bool = True) -> str | None:
        spec = kafka_spec(settings_from_dict({"sources": {"kafka": cfg}}).sources.kafka, topics=["t"])
        spec.fail_on_data_loss = fail_on_data_loss
        relation = read_stream(spark, spec)._jdf.queryExecution().logical().collectLeaves().head()
        return relation.extraOptions().get("minPartitions")

    assert min_partitions({}) == str(2 * spark.sparkContext.defaultParallelism)
    assert min_partitions({"min_partitions": 7}) == "7"
    # --allow-data-loss: one task per topic partition (Spark's consumer pool race, see splits_partitions)
    assert min_partitions({}, fail_on_data_loss=False) is None
    assert min_partitions({"min_partitions": 7}, fail_on_data_loss=False) is None


def test_second_process_on_the_checkpoint_is_refused(ctx, kafka_broker):
    import multiprocessing

    from lakectl.core.errors import CheckpointConflict
    from lakectl.jobs import run_job
    from lakectl.jobs.ingest import IngestParams, checkpoint_dir

    checkpoint = checkpoint_dir(ctx, IngestParams(source="kafka"))
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_lock, args=(checkpoint, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with pytest.raises(CheckpointConflict, match=f"in use by pid {holder.pid}"):
            run_job(ctx, "ingest", {"source": "kafka", "topics": ["any"], "bootstrap_servers": kafka_broker.bootstrap})
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(30)


def _hold_lock(checkpoint: Path, ready, release) -> None:
    from lakectl.lake.checkpoints import checkpoint_lock

    with checkpoint_lock(checkpoint):
        ready.set()
        release.wait(60)


def test_unreachable_broker_is_one_line_within_bounded_time(ctx):
    from kafka_broker import free_ports

    from lakectl.core.errors import SourceUnavailable
    from lakectl.jobs import run_job

    ctx.settings.sources.kafka.connect_timeout_s = 3
    (port,) = free_ports(1)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as err:
        run_job(ctx, "ingest", {"source": "kafka", "topics": ["t"], "bootstrap_servers": f"127.0.0.1:{port}"})
    assert time.monotonic() - started < 3  # a refused connection is an answer: no wait for connect_timeout_s
    assert f"127.0.0.1:{port} refused the connection" in err.value.one_line() and "\n" not in err.value.one_line()
    assert err.value.exit_code == 4


def test_missing_topic_on_a_new_stream_is_source_unavailable(ctx, kafka_broker):
    from lakectl.core.errors import SourceUnavailable
    from lakectl.jobs import run_job

    with pytest.raises(SourceUnavailable, match="topic no-such-topic does not exist"):
        run_job(ctx, "ingest", {"source": "kafka", "topics": ["no-such-topic"], "bootstrap_servers": kafka_broker.bootstrap})
    assert "no-such-topic" not in kafka_broker.list_topics(), "probing must not auto-create the topic"


def _set_retention(bootstrap: str, topic: str, ms: int) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.alter_configs([ConfigResource("topic", topic, set_config={"retention.ms": str(ms)})])
    for f in futures.values():
        f.result(30)


def test_expired_offsets_and_deleted_topic_are_loud_unless_allowed(ctx, tmp_path):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    from kafka_broker import SHORT_RETENTION_PROPS, start_broker

    from lakectl.core.errors import DataLossDetected
    from lakectl.jobs import run_job

    # The broker checks retention every 0.5 s; the topic keeps its records until the test shortens
    # its retention, so a slow Spark start cannot expire records early.
    broker = start_broker(tmp_path / "kafka-short", extra_props=SHORT_RETENTION_PROPS)
    try:
        topic = "expiring"
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(topic, 1, config={"retention.ms": "3600000"})])[topic].result(30)
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})

        def produce(start: int, n: int) -> None:
            for i in range(start, start + n):
                event = {"event_id": f"e{i}", "event_type": "click", "event_time": "2026-01-01T00:00:00Z"}
                producer.produce(topic, json.dumps(event).encode())  # noqa: F821 (deleted below)
            assert producer.flush(30) == 0  # noqa: F821

        params = {"source": "kafka", "topics": [topic], "bootstrap_servers": broker.bootstrap}
        produce(0, 50)
        assert run_job(ctx, "ingest", params).rows_written == 50  # the checkpoint now needs offset 50 next

        # 50 more records the stream has not read; retention deletes them.
        produce(50, 50)
        _set_retention(broker.bootstrap, topic, 500)
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "t"})
        deadline, low = time.monotonic() + 60, 0
        while time.monotonic() < deadline and low < 100:
            time.sleep(0.5)
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        consumer.close()
        assert low == 100, "retention should have deleted the unread records"
        _set_retention(broker.bootstrap, topic, 3600000)
        produce(100, 10)

        with pytest.raises(DataLossDetected, match=rf"{topic}\[0\] offsets 50\.\.100 are no longer on the broker"):
            run_job(ctx, "ingest", params)

        allowed = run_job(ctx, "ingest", {**params, "allow_data_loss": True})
        skipped = allowed.metrics["skipped_offsets"]
        assert skipped == [{"topic": topic, "partition": 0, "from_offset": 50, "to_offset": 100, "reason": "expired", "records": 50}]
        assert allowed.rows_written == 10 and allowed.warnings and "skipped 1 offset range" in allowed.warnings[0]
        record = json.loads((ctx.settings.storage.root_dir / "ops" / "data_loss.jsonl").read_text().splitlines()[-1])
        assert record["skipped"] == skipped and record["run_id"] == ctx.run_id
        ids = {r["event_id"] for r in bronze_rows(ctx.settings, columns=["event_id"])}
        assert ids == {f"e{i}" for i in range(50)} | {f"e{i}" for i in range(100, 110)}

        del producer  # a live producer would re-create the topic from its metadata refresh
        broker.delete_topic(topic)
        with pytest.raises(DataLossDetected, match=f"topic {topic} was deleted"):
            run_job(ctx, "ingest", params)
    finally:
        broker.stop()
