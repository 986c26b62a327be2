"""Real single-node Kafka broker (KRaft) for integration tests: lakectl.services.kafka, under the names the
tests and benchmarks import (`from kafka_broker import start_broker`). No pytest import here."""

from __future__ import annotations

from lakectl.services.kafka import SHORT_RETENTION_PROPS, Broker, KafkaBrokerError, start_broker
from lakectl.services.scripts import free_ports, port_open

__all__ = ["SHORT_RETENTION_PROPS", "Broker", "KafkaBrokerError", "free_ports", "port_open", "start_broker"]
