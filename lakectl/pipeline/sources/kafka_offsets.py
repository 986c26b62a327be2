"""Kafka offsets accounting, before any stream starts: the broker's earliest and end offsets, the offsets a
checkpoint has committed, the data-loss check between the two, and the "nothing new" pre-check that
spares a run the JVM when every partition has been read to its end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakectl.core.errors import DataLossDetected, SourceUnavailable
from lakectl.pipeline.sources.kafka import KafkaSpec, _refused_everywhere, probe


def watermarks(spec: KafkaSpec, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (earliest, end) offsets the broker has now."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({**spec.client_conf(), "group.id": "lakectl-probe", "enable.auto.commit": False})
    try:
        return {
            (t, p): consumer.get_watermark_offsets(TopicPartition(t, p), timeout=spec.connect_timeout_s, cached=False)
            for t, p in partitions
        }
    except KafkaException as exc:
        raise SourceUnavailable(f"{spec.kind} broker {spec.bootstrap} did not report offsets within {spec.connect_timeout_s:g}s") from exc
    finally:
        consumer.close()


# --- the checkpoint's committed offsets -----------------------------------------------------------


def checkpoint_offsets(spark_checkpoint: Path) -> dict[tuple[str, int], int] | None:
    """The offsets the next batch of this checkpoint starts from (None for a new stream): the end
    offsets of the last committed batch, or the initial offsets when no batch committed yet."""
    commits = _batch_files(spark_checkpoint / "commits")
    if commits:
        text = (spark_checkpoint / "offsets" / str(max(commits))).read_text()
        lines = text.splitlines()
        source_line = next((ln for ln in lines[2:] if ln.strip().startswith("{")), None)
    else:
        initial = spark_checkpoint / "sources" / "0" / "0"
        if not initial.exists():
            return None
        raw = initial.read_bytes().decode("utf-8", "replace")
        start = raw.find("{")
        source_line = raw[start : raw.rfind("}") + 1] if start >= 0 else None
    if not source_line:
        return None
    data = json.loads(source_line)
    return {(topic, int(p)): int(o) for topic, parts in data.items() for p, o in parts.items()}


def _batch_files(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    return [int(f.name) for f in directory.iterdir() if f.name.isdigit()]


def skipped_ranges(
    committed: dict[tuple[str, int], int], available: dict[str, int], marks: dict[tuple[str, int], tuple[int, int]]
) -> list[dict[str, Any]]:
    """Offset ranges the checkpoint still needs but the broker no longer has: expired records
    (from < earliest), a deleted topic, or a recreated one (offsets went backwards)."""
    lost: list[dict[str, Any]] = []
    for (topic, part), needed in sorted(committed.items()):
        if needed < 0:  # -2/-1: "earliest"/"latest" placeholders, nothing committed yet
            continue
        if topic not in available:
            lost.append({"topic": topic, "partition": part, "from_offset": needed, "to_offset": None, "reason": "topic_deleted"})
            continue
        low, high = marks.get((topic, part), (needed, needed))
        if needed > high:
            lost.append({"topic": topic, "partition": part, "from_offset": high, "to_offset": needed, "reason": "offsets_reset"})
        elif needed < low:
            lost.append(
                {"topic": topic, "partition": part, "from_offset": needed, "to_offset": low, "reason": "expired", "records": low - needed}
            )
    return lost


def check_source(spec: KafkaSpec, spark_checkpoint: Path, *, allow_data_loss: bool) -> list[dict[str, Any]]:
    """Probe the broker and compare the checkpoint with it before any stream starts. Returns the
    skipped offset ranges (only with allow_data_loss); otherwise data loss raises DataLossDetected."""
    available = probe(spec)
    committed = checkpoint_offsets(spark_checkpoint)
    if committed is None:
        missing = [t for t in spec.topics if t not in available]
        if missing and available is not None and _has_confluent():
            raise SourceUnavailable(
                f"topic {', '.join(missing)} does not exist on {spec.bootstrap}",
                "create it (e.g. `lakectl generate --to kafka --topic NAME --partitions 3`) or fix the topic name",
            )
        return []
    if not _has_confluent():
        return []
    present = [(t, p) for (t, p) in committed if t in available]
    marks = watermarks(spec, present) if present else {}
    lost = skipped_ranges(committed, available, marks)
    if lost and not allow_data_loss:
        first = lost[0]
        what = (
            f"topic {first['topic']} was deleted"
            if first["reason"] == "topic_deleted"
            else f"{first['topic']}[{first['partition']}] offsets {first['from_offset']}..{first['to_offset']} are no longer on the broker ({first['reason']})"
        )
        more = f" (+{len(lost) - 1} more partitions)" if len(lost) > 1 else ""
        raise DataLossDetected(
            f"{spec.kind} data loss: {what}{more}; the checkpoint still needs them",
            "re-run with --allow-data-loss to skip them (the skipped ranges are recorded), or restore the data",
        )
    return lost


# --- nothing new? (before the JVM) -----------------------------------------------------------------

# kafka.* options that tune the consumer without changing which broker it reaches or how it logs in:
# with any other option (a truststore, Kerberos, OAuth, a second kafka.bootstrap.servers, ...) the
# lightweight client may not connect as Spark does, so the pre-check leaves the decision to Spark.
_TUNING_KEYS = {
    "kafka.request.timeout.ms",
    "kafka.session.timeout.ms",
    "kafka.metadata.max.age.ms",
    "kafka.connections.max.idle.ms",
    "kafka.default.api.timeout.ms",
    "kafka.heartbeat.interval.ms",
    "kafka.retry.backoff.ms",
    "kafka.reconnect.backoff.ms",
    "kafka.reconnect.backoff.max.ms",
    "kafka.socket.connection.setup.timeout.ms",
    "kafka.socket.connection.setup.timeout.max.ms",
    "kafka.fetch.min.bytes",
    "kafka.fetch.max.bytes",
    "kafka.fetch.max.wait.ms",
    "kafka.max.partition.fetch.bytes",
    "kafka.max.poll.records",
    "kafka.max.poll.interval.ms",
    "kafka.receive.buffer.bytes",
    "kafka.send.buffer.bytes",
    "kafka.client.id",
    "kafka.isolation.level",
}
_PASSWORD_MECHANISMS = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
_PASSWORD_MODULES = ("PlainLoginModule", "ScramLoginModule")
PRECHECK_TIMEOUT_S = 3.0


def client_replicates(spec: KafkaSpec) -> bool:
    """Whether client_conf() connects exactly as Spark's consumer does: plaintext or TLS with the system
    CAs, optionally SASL PLAIN/SCRAM with the JAAS username and password (Event Hubs included)."""
    for key, value in spec.extra.items():
        if key in _TUNING_KEYS or key in ("kafka.security.protocol", "kafka.ssl.endpoint.identification.algorithm"):
            continue
        if key == "kafka.sasl.mechanism" and value.strip().upper() in _PASSWORD_MECHANISMS:
            continue
        if key == "kafka.sasl.jaas.config" and any(m in value for m in _PASSWORD_MODULES):
            continue
        return False
    return True


def committed_end_offsets(spark_checkpoint: Path) -> dict[tuple[str, int], int] | None:
    """(topic, partition) -> the offset the last committed batch read up to, when that batch is the
    last one planned (a planned, uncommitted batch must be replayed). None whenever unsure."""
    commits, planned = _batch_files(spark_checkpoint / "commits"), _batch_files(spark_checkpoint / "offsets")
    if not commits or max(planned, default=-1) != max(commits):
        return None
    # "v1", the batch metadata, then one line per source: lakectl's queries have exactly one.
    try:
        lines = [ln for ln in (spark_checkpoint / "offsets" / str(max(commits))).read_text().splitlines() if ln.strip()]
        if len(lines) != 3 or not lines[0].startswith("v"):
            return None
        offsets = {}
        for topic, parts in json.loads(lines[2]).items():
            for part, offset in parts.items():
                if not isinstance(offset, int) or offset < 0:  # -1/-2: "latest"/"earliest" placeholders
                    return None
                offsets[(topic, int(part))] = offset
    except (OSError, ValueError, AttributeError):
        return None
    return offsets or None


def nothing_new(spec: KafkaSpec, spark_checkpoint: Path, *, timeout: float = PRECHECK_TIMEOUT_S) -> dict[tuple[str, int], int] | None:
    """The checkpoint's offsets when every partition of the subscribed topics has been read up to the
    broker's end offset (high watermark) and no partition is new: a run would start a JVM to find
    nothing. None whenever unsure — a topic pattern (Spark's Java regex decides what matches), options
    the lightweight client cannot reproduce, an unreadable checkpoint, a broker that does not answer
    within `timeout`, another topic set, a new partition, any difference in an offset."""
    if spec.pattern or not spec.topics or not client_replicates(spec) or not _has_confluent():
        return None
    try:
        committed = committed_end_offsets(spark_checkpoint)
        if committed is None or {t for t, _ in committed} != set(spec.topics):
            return None
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import AdminClient, OffsetSpec

        _refused_everywhere(spec)  # a refusal is an answer: no wait for `timeout`
        admin = AdminClient({**spec.client_conf(), "socket.connection.setup.timeout.ms": max(1000, int(timeout * 1000))})
        topics = admin.list_topics(timeout=timeout).topics
        on_broker: set[tuple[str, int]] = set()
        for name in spec.topics:
            meta = topics.get(name)
            if meta is None or meta.error is not None:
                return None
            on_broker.update((name, part) for part in meta.partitions)
        if on_broker != set(committed):
            return None
        futures = admin.list_offsets({TopicPartition(t, p): OffsetSpec.latest() for t, p in sorted(on_broker)}, request_timeout=timeout)
        for tp, future in futures.items():
            if future.result(timeout=timeout).offset != committed[(tp.topic, tp.partition)]:
                return None
        return committed
    except Exception:  # unsure: the normal path decides (and reports a broker that is down)
        return None


def _has_confluent() -> bool:
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        return False
    return True
