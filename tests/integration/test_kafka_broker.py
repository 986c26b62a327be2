"""The local Kafka broker used by integration tests really works end to end."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kafka_broker import port_open, start_broker  # noqa: E402

confluent_kafka = pytest.importorskip("confluent_kafka")


@pytest.mark.kafka
def test_broker_produce_consume_and_stop(tmp_path: Path) -> None:
    broker = start_broker(
        tmp_path / "kafka",
        extra_props={"log.retention.check.interval.ms": 5000},
    )
    try:
        assert port_open(broker.port)
        props = (tmp_path / "kafka" / "server.properties").read_text()
        assert "log.retention.check.interval.ms=5000" in props

        broker.create_topic("events", 3)
        assert "events" in broker.list_topics()

        producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
        sent = {}
        for i in range(9):
            value = f"msg-{i}".encode()
            producer.produce("events", value=value, partition=i % 3)
            sent[value] = i % 3
        assert producer.flush(30) == 0

        md = producer.list_topics("events", timeout=10)
        assert sorted(md.topics["events"].partitions) == [0, 1, 2]

        consumer = confluent_kafka.Consumer(
            {
                "bootstrap.servers": broker.bootstrap,
                "group.id": "kafka-broker-test",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        got = {}
        try:
            consumer.subscribe(["events"])
            deadline = time.monotonic() + 60
            while len(got) < len(sent) and time.monotonic() < deadline:
                msg = consumer.poll(1.0)
                if msg is None:
                    continue
                assert msg.error() is None, msg.error()
                got[msg.value()] = msg.partition()
            consumer.commit(asynchronous=False)
        finally:
            consumer.close()
        assert got == sent

        broker.delete_topic("events")
    finally:
        broker.stop()

    assert not broker.is_running()
    assert not port_open(broker.port)
    assert not port_open(broker.controller_port)
