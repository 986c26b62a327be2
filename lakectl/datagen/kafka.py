"""Producing generated events into Kafka quickly (confluent-kafka, batched, lz4), keyed by customer_id."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lakectl.core.errors import EnvironmentProblem, SourceUnavailable, UsageError

_CUSTOMER = re.compile(r'"customer_id":"([^"]*)"')
PRODUCER_DEFAULTS: dict[str, Any] = {
    "linger.ms": 50,
    "batch.num.messages": 10_000,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 512 * 1024,
    "enable.idempotence": True,  # retries never duplicate a record in the topic
    "acks": "all",
    "log_level": 0,  # librdkafka's retries log to stderr; failures end in one lakectl error line instead
}


@dataclass
class ProduceResult:
    produced: int = 0
    failed: int = 0
    topic_created: bool = False
    partitions: int = 0


def _confluent() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EnvironmentProblem("the Python package confluent-kafka is not installed", "pip install confluent-kafka") from exc
    return confluent_kafka


def customer_key(line: str) -> bytes | None:
    """The record key: the event's customer_id (None for a record too broken to have one)."""
    m = _CUSTOMER.search(line)
    return m.group(1).encode() if m else None


def ensure_topic(client_conf: dict[str, Any], topic: str, partitions: int | None, *, timeout: float = 15.0) -> tuple[bool, int]:
    """Create `topic` with `partitions` if it does not exist. Returns (created, partition count)."""
    ck = _confluent()
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_conf)
    existing = list_topics(admin, client_conf, timeout)
    if topic in existing.topics and existing.topics[topic].error is None:
        return False, len(existing.topics[topic].partitions)
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions or 1)], operation_timeout=timeout)
    try:
        futures[topic].result(timeout)
    except ck.KafkaException as exc:
        if exc.args and getattr(exc.args[0], "code", lambda: None)() == ck.KafkaError.TOPIC_ALREADY_EXISTS:
            return False, partitions or 1
        raise UsageError(
            f"could not create topic {topic!r}: {exc.args[0].str() if exc.args else exc}",
            "check the broker's permissions or create the topic yourself",
        ) from exc
    return True, partitions or 1


def list_topics(admin: Any, client_conf: dict[str, Any], timeout: float) -> Any:
    ck = _confluent()
    try:
        return admin.list_topics(timeout=timeout)
    except ck.KafkaException as exc:
        raise SourceUnavailable(
            f"Kafka broker {client_conf.get('bootstrap.servers')} did not answer within {timeout:g}s",
            "start it (scripts/kafka-local start) or fix sources.kafka.bootstrap_servers",
        ) from exc


def produce_lines(client_conf: dict[str, Any], topic: str, lines: Iterable[str], *, flush_timeout: float = 120.0) -> ProduceResult:
    """Send every line as one record (key = customer_id) and wait until the broker acknowledged all."""
    ck = _confluent()
    producer = ck.Producer({**PRODUCER_DEFAULTS, **client_conf})
    result = ProduceResult()
    errors: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            result.failed += 1
            if len(errors) < 3:
                errors.append(err.str())

    produce, poll = producer.produce, producer.poll
    sent = 0
    for line in lines:
        while True:
            try:
                produce(topic, line.encode(), customer_key(line), on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let librdkafka send some
                poll(0.05)
        sent += 1
        if sent % 10_000 == 0:
            poll(0)
    remaining = producer.flush(flush_timeout)
    result.failed += remaining
    result.produced = sent - result.failed
    if result.failed:
        raise SourceUnavailable(
            f"{result.failed} of {sent} records were not acknowledged by {client_conf.get('bootstrap.servers')} topic {topic!r}"
            + (f": {errors[0]}" if errors else ""),
            "check the broker is up and the topic exists; re-running produces the same events again",
        )
    return result
