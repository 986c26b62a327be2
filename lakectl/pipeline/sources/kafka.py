"""Kafka source (also Event Hubs through its Kafka endpoint): Spark options, a bounded broker probe,
and the data-loss check of a checkpoint's committed offsets against what the broker still has."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.pipeline.bronze.parse import with_source_columns
from lakectl.core.errors import ConfigError, DataLossDetected, SourceUnavailable, UsageError
from lakectl.config import KafkaSource, mask_secrets

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_JAAS = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')
# Spark option (kafka.*) -> librdkafka property, for the probe and the watermark check.
_CLIENT_KEYS = {
    "kafka.security.protocol": "security.protocol",
    "kafka.sasl.mechanism": "sasl.mechanisms",
    "kafka.ssl.endpoint.identification.algorithm": "ssl.endpoint.identification.algorithm",
}


@dataclass
class KafkaSpec:
    """Everything needed to read one Kafka-protocol source. `options` may hold secrets: print
    only `redacted_options()`."""

    kind: str  # Source.kafka | Source.eventhubs (its value: it goes into Spark as a literal)
    bootstrap: str
    topics: list[str] = field(default_factory=list)
    pattern: str | None = None
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int | None = None
    fail_on_data_loss: bool = True
    min_partitions: int | None = None
    extra: dict[str, str] = field(default_factory=dict)  # kafka.* security and tuning options
    connect_timeout_s: float = 10.0

    def identity(self) -> dict[str, Any]:
        """What a checkpoint is made for: its offsets mean nothing for another broker or topic set."""
        subscription: dict[str, Any] = {"pattern": self.pattern} if self.pattern else {"topics": sorted(self.topics)}
        return {"source": self.kind, "bootstrap": self.bootstrap, **subscription}

    def spark_options(self) -> dict[str, str]:
        opts = {
            "kafka.bootstrap.servers": self.bootstrap,
            "startingOffsets": self.starting_offsets,
            "failOnDataLoss": str(self.fail_on_data_loss).lower(),
            "includeHeaders": "true",
        }
        if self.pattern:
            opts["subscribePattern"] = self.pattern
        else:
            opts["subscribe"] = ",".join(self.topics)
        if self.max_offsets_per_trigger:
            opts["maxOffsetsPerTrigger"] = str(self.max_offsets_per_trigger)
        if self.min_partitions and self.splits_partitions():
            opts["minPartitions"] = str(self.min_partitions)
        opts.update(self.extra)
        return opts

    def splits_partitions(self) -> bool:
        """Whether a topic partition may be read by several tasks of one micro-batch (minPartitions).
        Not when data loss is tolerated: on an expired offset Spark's KafkaDataConsumer.get returns
        its pooled consumer to the pool and goes on polling with it, so a second task of the same
        topic partition can borrow it meanwhile ("KafkaConsumer is not safe for multi-threaded
        access"). With one task per topic partition nobody else borrows that consumer."""
        return self.fail_on_data_loss

    def redacted_options(self) -> dict[str, str]:
        return mask_secrets(self.spark_options())

    def client_conf(self) -> dict[str, Any]:
        """The same connection as librdkafka (confluent-kafka) properties. librdkafka's own log lines
        are silenced: failures reach the user as one lakectl error line instead."""
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "log_level": 0}
        for key, value in self.extra.items():
            if key in _CLIENT_KEYS:
                conf[_CLIENT_KEYS[key]] = value
        jaas = self.extra.get("kafka.sasl.jaas.config")
        if jaas:
            fields = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _JAAS.findall(jaas)}
            if "username" in fields:
                conf["sasl.username"] = fields["username"]
            if "password" in fields:
                conf["sasl.password"] = fields["password"]
        return conf


def kafka_spec(cfg: KafkaSource, *, topics: list[str] | None = None, pattern: str | None = None,
               bootstrap: str | None = None, starting_offsets: str | None = None,
               max_offsets_per_trigger: int | None = None) -> KafkaSpec:
    """The Kafka source from config, with command-line overrides."""
    if topics and pattern:
        raise UsageError("give topics or a topic pattern, not both", "drop --topic or --topic-pattern")
    if topics:
        pattern = None
    elif pattern:
        topics = []
    else:
        topics, pattern = list(cfg.topics), cfg.topic_pattern
    if not topics and not pattern:
        raise UsageError("no Kafka topic to read", "set sources.kafka.topics or pass --topic NAME")
    extra = dict(cfg.options)
    for key in extra:
        if not key.startswith("kafka."):
            raise UsageError(f"sources.kafka.options: {key!r} is not a Kafka client option", "prefix Kafka consumer options with `kafka.` (e.g. kafka.security.protocol)")
    return KafkaSpec(
        kind="kafka", bootstrap=bootstrap or cfg.bootstrap_servers, topics=list(topics or []), pattern=pattern,
        starting_offsets=starting_offsets or cfg.starting_offsets,
        max_offsets_per_trigger=max_offsets_per_trigger or cfg.max_offsets_per_trigger,
        fail_on_data_loss=cfg.fail_on_data_loss, min_partitions=cfg.min_partitions, extra=extra,
        connect_timeout_s=cfg.connect_timeout_s,
    )


def read_stream(spark: "SparkSession", spec: KafkaSpec) -> "DataFrame":
    """value (raw string) plus every Kafka coordinate as bronze source columns."""
    options = spec.spark_options()
    if "minPartitions" not in options and spec.splits_partitions():
        # Topic partitions that do not divide evenly over the cores leave cores idle (3 partitions on
        # 2 cores take two rounds, the second on one core): split the offset ranges into 2 tasks per core.
        parallelism = _default_parallelism(spark)
        if parallelism:
            options["minPartitions"] = str(2 * parallelism)
    return as_bronze_source(spark.readStream.format("kafka").options(**options).load(), spec.kind)


def as_bronze_source(df: "DataFrame", kind: str) -> "DataFrame":
    """A Kafka source DataFrame (stream or batch) as `value` plus the bronze source columns."""
    from pyspark.sql import functions as F

    # Kafka allows repeated header keys and map_from_entries refuses them: keep each key's first value.
    keys = F.array_distinct(F.transform("headers", lambda h: h["key"]))
    headers = F.map_from_entries(F.transform(keys, lambda k: F.struct(
        k.alias("key"), F.filter("headers", lambda h: h["key"] == k)[0]["value"].cast("string").alias("value"))))
    return with_source_columns(
        df.select(F.col("value").cast("string").alias("value"), "topic", "partition", "offset", "timestamp", "key", "headers"),
        source=F.lit(kind), kafka_topic=F.col("topic"), kafka_partition=F.col("partition"),
        kafka_offset=F.col("offset"), kafka_timestamp=F.col("timestamp"), kafka_key=F.col("key").cast("string"),
        kafka_headers=headers,
    ).drop("topic", "partition", "offset", "timestamp", "key", "headers")


def _default_parallelism(spark: "SparkSession") -> int | None:
    """The classic session's default parallelism (cores locally); None over Spark Connect."""
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect sessions have no SparkContext
        return None


# --- probing the broker ---------------------------------------------------------------------------

def probe(spec: KafkaSpec) -> dict[str, int]:
    """Topic -> partition count for the subscribed topics, asking the broker with a bounded timeout.
    An unreachable broker is one SourceUnavailable line, not a hang."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        _socket_probe(spec)
        return {}
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    # librdkafka refuses a connection setup timeout under 1 s; list_topics below still bounds the probe.
    setup_ms = max(1000, int(spec.connect_timeout_s * 1000))
    try:
        admin = AdminClient({**spec.client_conf(), "socket.connection.setup.timeout.ms": setup_ms})
    except KafkaException as exc:
        raise _client_config_error(spec, exc) from None
    try:
        md = admin.list_topics(timeout=spec.connect_timeout_s)
    except KafkaException as exc:
        raise SourceUnavailable(
            f"{spec.kind} broker {spec.bootstrap} did not answer within {spec.connect_timeout_s:g}s",
            "check the broker is running and reachable" + (" (scripts/kafka-local start)" if spec.kind == "kafka" else "")
            + f", or fix sources.{spec.kind} in the config",
        ) from exc
    found = {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}
    if spec.pattern:
        regex = re.compile(spec.pattern)
        return {t: n for t, n in found.items() if regex.fullmatch(t)}
    return {t: found[t] for t in spec.topics if t in found}


def _client_config_error(spec: KafkaSpec, exc: Exception) -> UsageError:
    """The Kafka client refused an option: name the property, never its value (it may be a secret)."""
    prop = re.search(r'property "([^"]+)"', str(exc))
    return ConfigError(f"sources.{spec.kind}: the Kafka client refused the option {prop.group(1) if prop else '(unknown)'}",
                       f"fix sources.{spec.kind}.options (librdkafka's allowed values)")


def _socket_probe(spec: KafkaSpec) -> None:
    for server in spec.bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 9092)), timeout=spec.connect_timeout_s):
                return
        except OSError:
            continue
    raise SourceUnavailable(f"{spec.kind} broker {spec.bootstrap} is not reachable", "check the broker is running and the address in the config")


def watermarks(spec: KafkaSpec, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (earliest, end) offsets the broker has now."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({**spec.client_conf(), "group.id": "lakectl-probe", "enable.auto.commit": False})
    try:
        return {(t, p): consumer.get_watermark_offsets(TopicPartition(t, p), timeout=spec.connect_timeout_s, cached=False)
                for t, p in partitions}
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
        source_line = raw[start:raw.rfind("}") + 1] if start >= 0 else None
    if not source_line:
        return None
    data = json.loads(source_line)
    return {(topic, int(p)): int(o) for topic, parts in data.items() for p, o in parts.items()}


def _batch_files(directory: Path) -> list[int]:
    if not directory.is_dir():
        return []
    return [int(f.name) for f in directory.iterdir() if f.name.isdigit()]


def skipped_ranges(committed: dict[tuple[str, int], int], available: dict[str, int],
                   marks: dict[tuple[str, int], tuple[int, int]]) -> list[dict[str, Any]]:
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
            lost.append({"topic": topic, "partition": part, "from_offset": needed, "to_offset": low, "reason": "expired", "records": low - needed})
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
        what = (f"topic {first['topic']} was deleted" if first["reason"] == "topic_deleted"
                else f"{first['topic']}[{first['partition']}] offsets {first['from_offset']}..{first['to_offset']} are no longer on the broker ({first['reason']})")
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
    "kafka.request.timeout.ms", "kafka.session.timeout.ms", "kafka.metadata.max.age.ms", "kafka.connections.max.idle.ms",
    "kafka.default.api.timeout.ms", "kafka.heartbeat.interval.ms", "kafka.retry.backoff.ms", "kafka.reconnect.backoff.ms",
    "kafka.reconnect.backoff.max.ms", "kafka.socket.connection.setup.timeout.ms", "kafka.socket.connection.setup.timeout.max.ms",
    "kafka.fetch.min.bytes", "kafka.fetch.max.bytes", "kafka.fetch.max.wait.ms", "kafka.max.partition.fetch.bytes",
    "kafka.max.poll.records", "kafka.max.poll.interval.ms", "kafka.receive.buffer.bytes", "kafka.send.buffer.bytes",
    "kafka.client.id", "kafka.isolation.level",
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
