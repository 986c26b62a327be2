"""Where events come from: `sources.files|kafka|eventhubs|kinesis`, one section per lakectl.core.sources.Source."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, field

from lakectl.core.typed import Struct


class FilesSource(Struct):
    path: str | None = None  # default: <landing>/events
    # At most N files per micro-batch; without it batches are bounded in bytes (ingest.max_bytes_per_trigger).
    max_files_per_trigger: Annotated[int, Meta(ge=1)] | None = None


class KafkaSource(Struct):
    bootstrap_servers: str = "127.0.0.1:9092"
    topics: list[str] = field(default_factory=lambda: ["lakectl.events"])
    topic_pattern: str | None = None
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: Annotated[int, Meta(ge=1)] | None = None
    fail_on_data_loss: bool = True
    min_partitions: Annotated[int, Meta(ge=1)] | None = None  # Spark tasks per micro-batch; default: the session's parallelism
    options: dict[str, str] = field(default_factory=dict)  # kafka.* consumer options; secrets as ${ENV}
    connect_timeout_s: Annotated[float, Meta(gt=0)] = 10.0  # bound on the broker probe before a stream starts


class EventHubsSource(Struct):
    namespace: str | None = None  # <namespace>.servicebus.windows.net:9093
    event_hub: str = "events"
    connection_string_env: str = "EVENTHUBS_CONNECTION_STRING"
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: Annotated[int, Meta(ge=1)] | None = None
    min_partitions: Annotated[int, Meta(ge=1)] | None = None  # Spark tasks per micro-batch; default: the session's parallelism
    options: dict[str, str] = field(default_factory=dict)  # extra kafka.* options (timeouts)
    connect_timeout_s: Annotated[float, Meta(gt=0)] = 15.0


class KinesisSource(Struct):
    stream_name: str = "lakectl-events"
    region: str = "us-east-1"
    initial_position: str = "trim_horizon"
    endpoint_url: str | None = None


class SourcesSettings(Struct):
    files: FilesSource = field(default_factory=FilesSource)
    kafka: KafkaSource = field(default_factory=KafkaSource)
    eventhubs: EventHubsSource = field(default_factory=EventHubsSource)
    kinesis: KinesisSource = field(default_factory=KinesisSource)
