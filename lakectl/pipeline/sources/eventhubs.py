"""Azure Event Hubs through its Kafka endpoint: <namespace>.servicebus.windows.net:9093, SASL_SSL +
PLAIN, user `$ConnectionString`, password = the namespace connection string from an environment variable."""

from __future__ import annotations

import os

from lakectl.config import EventHubsSource
from lakectl.core.errors import ConfigError
from lakectl.pipeline.sources.kafka import KafkaSpec

PORT = 9093
# Microsoft's recommended Kafka client settings for Event Hubs (idle connections are closed at 240 s).
RECOMMENDED = {
    "kafka.request.timeout.ms": "60000",
    "kafka.session.timeout.ms": "30000",
    "kafka.metadata.max.age.ms": "180000",
    "kafka.connections.max.idle.ms": "180000",
}


def bootstrap(namespace: str) -> str:
    """`myns` -> myns.servicebus.windows.net:9093; a full host (with or without port) is kept."""
    host = namespace if "." in namespace else f"{namespace}.servicebus.windows.net"
    return host if ":" in host else f"{host}:{PORT}"


def jaas_config(connection_string: str) -> str:
    escaped = connection_string.replace("\\", "\\\\").replace('"', '\\"')
    return f'org.apache.kafka.common.security.plain.PlainLoginModule required username="$ConnectionString" password="{escaped}";'


def eventhubs_spec(
    cfg: EventHubsSource,
    *,
    event_hub: str | None = None,
    starting_offsets: str | None = None,
    max_offsets_per_trigger: int | None = None,
    environ: dict[str, str] | None = None,
) -> KafkaSpec:
    env = os.environ if environ is None else environ
    if not cfg.namespace:
        raise ConfigError("sources.eventhubs.namespace is not set", "set it to your Event Hubs namespace (see configs/eventhubs.yaml)")
    conn = env.get(cfg.connection_string_env)
    if not conn:
        raise ConfigError(
            f"environment variable {cfg.connection_string_env} is not set (the Event Hubs connection string)",
            f"export {cfg.connection_string_env}='Endpoint=sb://...' (Shared access policies in the Azure portal)",
        )
    extra = {
        **RECOMMENDED,
        **cfg.options,
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "PLAIN",
        "kafka.sasl.jaas.config": jaas_config(conn),
    }
    return KafkaSpec(
        kind="eventhubs",
        bootstrap=bootstrap(cfg.namespace),
        topics=[event_hub or cfg.event_hub],
        starting_offsets=starting_offsets or cfg.starting_offsets,
        max_offsets_per_trigger=max_offsets_per_trigger or cfg.max_offsets_per_trigger,
        min_partitions=cfg.min_partitions,
        extra=extra,
        connect_timeout_s=cfg.connect_timeout_s,
    )
