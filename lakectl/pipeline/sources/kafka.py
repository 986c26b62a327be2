"""Kafka source (also Event Hubs through its Kafka endpoint): the source spec and its Spark options, the
stream as bronze source columns, and a bounded broker probe. What a checkpoint has read against what the
broker has is in lakectl.pipeline.sources.kafka_offsets."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakectl.config import KafkaSource, mask_secrets
from lakectl.core.errors import ConfigError, SourceUnavailable, UsageError
from lakectl.pipeline.bronze.parse import with_source_columns

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


def kafka_spec(
    cfg: KafkaSource,
    *,
    topics: list[str] | None = None,
    pattern: str | None = None,
    bootstrap: str | None = None,
    starting_offsets: str | None = None,
    max_offsets_per_trigger: int | None = None,
) -> KafkaSpec:
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
            raise UsageError(
                f"sources.kafka.options: {key!r} is not a Kafka client option",
                "prefix Kafka consumer options with `kafka.` (e.g. kafka.security.protocol)",
            )
    return KafkaSpec(
        kind="kafka",
        bootstrap=bootstrap or cfg.bootstrap_servers,
        topics=list(topics or []),
        pattern=pattern,
        starting_offsets=starting_offsets or cfg.starting_offsets,
        max_offsets_per_trigger=max_offsets_per_trigger or cfg.max_offsets_per_trigger,
        fail_on_data_loss=cfg.fail_on_data_loss,
        min_partitions=cfg.min_partitions,
        extra=extra,
        connect_timeout_s=cfg.connect_timeout_s,
    )


def read_stream(spark: SparkSession, spec: KafkaSpec) -> DataFrame:
    """value (raw string) plus every Kafka coordinate as bronze source columns."""
    options = spec.spark_options()
    if "minPartitions" not in options and spec.splits_partitions():
        # Topic partitions that do not divide evenly over the cores leave cores idle (3 partitions on
        # 2 cores take two rounds, the second on one core): split the offset ranges into 2 tasks per core.
        parallelism = _default_parallelism(spark)
        if parallelism:
            options["minPartitions"] = str(2 * parallelism)
    return as_bronze_source(spark.readStream.format("kafka").options(**options).load(), spec.kind)


def as_bronze_source(df: DataFrame, kind: str) -> DataFrame:
    """A Kafka source DataFrame (stream or batch) as `value` plus the bronze source columns."""
    from pyspark.sql import functions as F

    # Kafka allows repeated header keys and map_from_entries refuses them: keep each key's first value.
    keys = F.array_distinct(F.transform("headers", lambda h: h["key"]))
    headers = F.map_from_entries(
        F.transform(
            keys, lambda k: F.struct(k.alias("key"), F.filter("headers", lambda h: h["key"] == k)[0]["value"].cast("string").alias("value"))
        )
    )
    return with_source_columns(
        df.select(F.col("value").cast("string").alias("value"), "topic", "partition", "offset", "timestamp", "key", "headers"),
        source=F.lit(kind),
        kafka_topic=F.col("topic"),
        kafka_partition=F.col("partition"),
        kafka_offset=F.col("offset"),
        kafka_timestamp=F.col("timestamp"),
        kafka_key=F.col("key").cast("string"),
        kafka_headers=headers,
    ).drop("topic", "partition", "offset", "timestamp", "key", "headers")


def _default_parallelism(spark: SparkSession) -> int | None:
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

    _refused_everywhere(spec)
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
            "check the broker is running and reachable"
            + (" (scripts/kafka-local start)" if spec.kind == "kafka" else "")
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
    return ConfigError(
        f"sources.{spec.kind}: the Kafka client refused the option {prop.group(1) if prop else '(unknown)'}",
        f"fix sources.{spec.kind}.options (librdkafka's allowed values)",
    )


def _refused_everywhere(spec: KafkaSpec) -> None:
    """A refused connection (or a name that does not resolve) is an answer: when every bootstrap address gives
    one, say so at once instead of letting the Kafka client retry until its timeout. Anything else (a
    timeout, a filtered port) is left to the client."""
    reasons = []
    for server in spec.bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port or 9092)), timeout=min(spec.connect_timeout_s, 3.0)):
                return
        except ConnectionRefusedError:
            reasons.append(f"{server.strip()} refused the connection")
        except socket.gaierror:
            reasons.append(f"{server.strip()}: no such host")
        except (OSError, ValueError):
            return  # no answer yet: the client decides within its timeout
    raise SourceUnavailable(
        f"{spec.kind} broker {spec.bootstrap} is not reachable: {'; '.join(reasons)}",
        "check the broker is running and reachable"
        + (" (scripts/kafka-local start)" if spec.kind == "kafka" else "")
        + f", or fix sources.{spec.kind} in the config",
    )


def _socket_probe(spec: KafkaSpec) -> None:
    for server in spec.bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 9092)), timeout=spec.connect_timeout_s):
                return
        except OSError:
            continue
    raise SourceUnavailable(
        f"{spec.kind} broker {spec.bootstrap} is not reachable", "check the broker is running and the address in the config"
    )
