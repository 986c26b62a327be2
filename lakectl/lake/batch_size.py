"""How much input one micro-batch reads: a configured byte limit, else a share of the driver's memory."""

from __future__ import annotations

from typing import Any

# A micro-batch's input may take this share of the driver's heap. Ingest caches the parsed batch
# uncompressed (about the size of the raw text) and Spark's unified memory is ~60% of (heap - 300 MiB):
# an eighth leaves room for the cache, the Delta write and the next listing. Measured in docs/kafka.md.
BATCH_SHARE_OF_DRIVER_MEMORY = 8
DEFAULT_DRIVER_MEMORY = 2 * 1024**3  # when the target does not say (a Spark Connect server's own driver)
MIN_BATCH_BYTES = 16 * 1024**2
KAFKA_RECORD_BYTES = 1024  # a Kafka record in memory: ~0.4 KiB of JSON, its coordinates and headers, the parsed columns


def driver_memory_bytes(target: Any) -> int | None:
    """The driver heap a target declares (`driver_memory`, or spark.driver.memory in its spark_conf)."""
    from lakectl.core.units import parse_size

    text = getattr(target, "driver_memory", None) or (getattr(target, "spark_conf", None) or {}).get("spark.driver.memory")
    return parse_size(text) if text else None


def micro_batch_bytes(explicit: str | int | None, target: Any) -> int:
    """Input bytes per micro-batch: the configured `max_bytes_per_trigger`, else a share of the driver's
    memory, so that a backlog of any size is read in several bounded batches instead of one."""
    from lakectl.core.units import parse_size

    if explicit is not None:
        return max(1, parse_size(explicit) or 1)
    memory = driver_memory_bytes(target) or DEFAULT_DRIVER_MEMORY
    return max(MIN_BATCH_BYTES, memory // BATCH_SHARE_OF_DRIVER_MEMORY)


def kafka_records_per_batch(batch_bytes: int) -> int:
    """Kafka limits batches in records (maxOffsetsPerTrigger), not bytes."""
    return max(1000, batch_bytes // KAFKA_RECORD_BYTES)
