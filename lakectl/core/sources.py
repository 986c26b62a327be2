"""The event sources lakectl ingests from: one name each, the same on the command line (`--source`), in
job parameters, in the config (`sources.<name>`) and in a stream's recorded identity."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    files = "files"  # JSON-lines files landing in a folder
    kafka = "kafka"
    eventhubs = "eventhubs"  # Azure Event Hubs through its Kafka endpoint
    kinesis = "kinesis"  # AWS Kinesis (Databricks targets only)


def spoken(values: object) -> str:
    """'files, kafka, eventhubs or kinesis': a choice of names as a sentence says it."""
    names = [str(v) for v in values]  # type: ignore[attr-defined]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
