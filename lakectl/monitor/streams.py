"""Ingest stream health from the checkpoint and ops.stream_progress: last batch, rates, batch
duration, backlog (Kafka end offsets minus committed offsets; unseen files) and whether it runs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakectl.config import Settings
from lakectl.core.sources import Source
from lakectl.lake.checkpoints import LOCK_FILE, STATE_FILE  # stdlib-only module: no Spark import
from lakectl.lake.deltars import read_rows
from lakectl.monitor import progress as progress_table


@dataclass
class StreamHealth:
    stream: str
    checkpoint: str
    source: str | None = None
    state: str = "stopped"  # running | stopped | never-run
    last_batch_id: int | None = None
    last_batch_time: str | None = None
    minutes_since_last_batch: float | None = None
    input_rows_per_second: float | None = None
    processed_rows_per_second: float | None = None
    batch_duration_ms: int | None = None
    last_batch_rows: int | None = None
    backlog_records: int | None = None  # Kafka: end offsets - committed offsets
    backlog_files: int | None = None  # files source: files in the folder not yet in the checkpoint
    backlog_detail: dict[str, Any] | None = None
    error: str | None = None
    writes: str | None = None  # the table the stream writes
    end_to_end_lag_s: float | None = None  # now - the newest event that table reflects (lakectl.monitor.freshness)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _numbered(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(f.name) for f in folder.iterdir() if f.name.isdigit())


def committed_offsets(spark_checkpoint: Path) -> tuple[int | None, dict[str, Any] | None, list[Any]]:
    """(batch id, batch metadata, one offset per source) of the last committed batch."""
    commits = _numbered(spark_checkpoint / "commits")
    if not commits:
        return None, None, []
    batch = commits[-1]
    lines = (spark_checkpoint / "offsets" / str(batch)).read_text().splitlines()
    # Format: "v1", the batch metadata JSON, then one line per source ("-" when a source has none).
    meta = json.loads(lines[1]) if len(lines) > 1 else {}
    sources = [json.loads(line) if line.strip() not in ("", "-") else None for line in lines[2:]]
    return batch, meta, sources


def seen_files(spark_checkpoint: Path) -> set[str]:
    """Paths the file source has already taken (its per-batch and compacted logs)."""
    seen: set[str] = set()
    folder = spark_checkpoint / "sources" / "0"
    if not folder.is_dir():
        return seen
    for f in folder.iterdir():
        if f.name.startswith(".") or f.name.endswith(".tmp") or f.name.endswith(".crc"):
            continue
        for line in f.read_text().splitlines()[1:]:
            if line.startswith("{"):
                seen.add(json.loads(line)["path"])
    return seen


def _file_uri(path: Path) -> str:
    return path.absolute().as_uri()


def files_backlog(landing: str, spark_checkpoint: Path) -> int:
    folder = Path(landing)
    if not folder.is_dir():
        return 0
    seen = seen_files(spark_checkpoint)
    seen_local = {s.removeprefix("file://") for s in seen}
    pending = 0
    for f in folder.iterdir():
        if f.is_file() and not f.name.startswith((".", "_")):
            if _file_uri(f) not in seen and str(f.absolute()) not in seen_local:
                pending += 1
    return pending


def kafka_end_offsets(
    client_conf: dict[str, Any],
    partitions: dict[str, list[int]],
    timeout: float = 5.0,
    *,
    topics: list[str] | None = None,
    pattern: str | None = None,
) -> dict[str, dict[str, tuple[int, int]]]:
    """(low, high) watermarks per topic/partition from the broker (confluent_kafka). `client_conf` is
    the source's librdkafka connection (bootstrap servers plus any SASL/SSL settings).

    Besides `partitions` (what the checkpoint knows), the broker's metadata adds every partition of
    `topics` and of the topics matching `pattern`: partitions or topics created after the stream last
    ran are read by its next batch too, so they are backlog as well."""
    import re

    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {**client_conf, "group.id": "lakectl-monitor", "enable.auto.commit": False, "socket.timeout.ms": int(timeout * 1000)}
    )
    try:
        wanted = {t: set(parts) for t, parts in partitions.items()}
        if topics or pattern:
            metadata = consumer.list_topics(timeout=timeout).topics
            names = [t for t in metadata if pattern and re.fullmatch(pattern, t)] + [t for t in topics or [] if t in metadata]
            for name in names:
                if metadata[name].error is None:
                    wanted.setdefault(name, set()).update(metadata[name].partitions)
        ends: dict[str, dict[str, tuple[int, int]]] = {}
        for topic, parts in wanted.items():
            for part in sorted(parts):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, part), timeout=timeout)
                ends.setdefault(topic, {})[str(part)] = (int(low), int(high))
        return ends
    finally:
        consumer.close()


def kafka_backlog(committed: dict[str, dict[str, int]], ends: dict[str, dict[str, tuple[int, int]]]) -> tuple[int, dict[str, Any]]:
    """Records between the committed offsets and the end offsets, total and per topic-partition.
    A partition the checkpoint has not seen yet counts from its earliest retained offset."""
    detail: dict[str, Any] = {}
    total = 0
    for topic, parts in ends.items():
        for part, (low, high) in parts.items():
            done = committed.get(topic, {}).get(part)
            lag = max(0, high - (int(done) if done is not None else low))
            detail[f"{topic}-{part}"] = lag
            total += lag
    return total, detail


def _flock_holders() -> dict[int, int] | None:
    """inode -> pid of every flock() lock on this machine (Linux /proc/locks); None elsewhere."""
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    holders = {}
    for line in text.splitlines():
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:567 0 EOF" (blocked waiters have a "->" field first)
        if "->" in parts or len(parts) < 6 or parts[1] != "FLOCK":
            continue
        try:
            holders[int(parts[5].split(":")[-1])] = int(parts[4])
        except ValueError:
            continue
    return holders


def query_running(checkpoint: Path) -> bool | None:
    """Whether an ingest holds the checkpoint's lock (lakectl.lake.checkpoints.checkpoint_lock) right now.

    Read-only: looks the lock up in /proc/locks instead of trying to take it (which could make a
    starting ingest fail). Falls back to "is the pid in the lock file alive". None: no lock file."""
    lock = checkpoint / LOCK_FILE
    if not lock.is_file():
        return None
    holders = _flock_holders()
    if holders is not None:
        return lock.stat().st_ino in holders
    words = lock.read_text().split()
    if len(words) < 2 or not words[1].isdigit():
        return False
    try:
        os.kill(int(words[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stream_health(
    settings: Settings, name: str, checkpoint: Path, progress: list[dict[str, Any]], *, kafka_timeout: float = 5.0
) -> StreamHealth:
    health = StreamHealth(stream=name, checkpoint=str(checkpoint))
    state_file = checkpoint / STATE_FILE
    identity: dict[str, Any] = {}
    if state_file.is_file():
        identity = json.loads(state_file.read_text()).get("identity") or {}
    health.source = identity.get("source") or name
    spark_cp = checkpoint / "offsets"
    now = datetime.now(UTC)
    try:
        batch, meta, offsets = committed_offsets(spark_cp)
    except Exception as exc:
        batch, meta, offsets = None, None, []
        health.error = f"checkpoint unreadable: {exc}"
    health.last_batch_id = batch
    last_ms = (meta or {}).get("batchTimestampMs")
    mine = sorted((p for p in progress if p.get("stream") == name), key=lambda p: (p["timestamp"] or now, p["batch_id"]))
    if mine:
        last = mine[-1]
        health.input_rows_per_second = last["input_rows_per_second"]
        health.processed_rows_per_second = last["processed_rows_per_second"]
        health.batch_duration_ms = last["duration_ms"]
        health.last_batch_rows = last["num_input_rows"]
        if last_ms is None and last["timestamp"] is not None:
            last_ms = last["timestamp"].timestamp() * 1000
    if last_ms is not None:
        health.last_batch_time = datetime.fromtimestamp(last_ms / 1000, tz=UTC).isoformat(timespec="seconds")
        health.minutes_since_last_batch = round((now.timestamp() * 1000 - last_ms) / 60_000, 2)
    health.writes = "gold.kpi_hourly" if name == "aggregate" else "bronze.events" if health.source in set(Source) else None
    if health.writes is not None:
        from lakectl.monitor.freshness import lag_seconds, newest_event

        health.end_to_end_lag_s = lag_seconds(newest_event(settings, health.writes), now)
    alive = query_running(checkpoint)
    health.state = "running" if alive else ("never-run" if batch is None and not mine else "stopped")
    try:
        _backlog(settings, health, identity, spark_cp, offsets, kafka_timeout)
    except Exception as exc:
        health.error = f"backlog unavailable: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
    return health


def _backlog(
    settings: Settings, health: StreamHealth, identity: dict[str, Any], spark_cp: Path, offsets: list[Any], timeout: float
) -> None:
    if health.source == Source.files:
        landing = identity.get("path") or settings.sources.files.path or str(settings.storage.landing_dir / "events")
        health.backlog_files = files_backlog(landing, spark_cp)
    elif health.source in (Source.kafka, Source.eventhubs):
        committed = next((o for o in offsets if isinstance(o, dict) and o and "logOffset" not in o), {}) or {}
        pattern = identity.get("pattern")
        topics = None if pattern else identity.get("topics") or settings.sources.kafka.topics
        partitions = {t: [int(p) for p in parts] for t, parts in committed.items()}
        ends = kafka_end_offsets(backlog_client_conf(settings, identity), partitions, timeout, topics=topics, pattern=pattern)
        health.backlog_records, health.backlog_detail = kafka_backlog(committed, ends)


def backlog_client_conf(settings: Settings, identity: dict[str, Any]) -> dict[str, Any]:
    """The librdkafka connection for a Kafka-protocol stream: the broker its checkpoint was made for,
    with the configured security options (Event Hubs: SASL_SSL with the connection string)."""
    if identity.get("source") == Source.eventhubs:
        from lakectl.pipeline.sources.eventhubs import eventhubs_spec

        return eventhubs_spec(settings.sources.eventhubs).client_conf()
    from lakectl.pipeline.sources.kafka import kafka_spec

    return kafka_spec(
        settings.sources.kafka, topics=identity.get("topics"), pattern=identity.get("pattern"), bootstrap=identity.get("bootstrap")
    ).client_conf()


def discover(settings: Settings, progress: list[dict[str, Any]]) -> dict[str, Path]:
    """Ingest streams: checkpoint folders under <checkpoints>/ingest, plus any recorded in progress."""
    found: dict[str, Path] = {}
    root = settings.storage.checkpoints_dir / "ingest"
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if d.is_dir():
                found[d.name] = d
    for p in progress:
        if p.get("stream") and p["stream"] not in found and p.get("checkpoint"):
            found[p["stream"]] = Path(p["checkpoint"])
    return found


def all_streams(settings: Settings, *, kafka_timeout: float = 5.0) -> list[StreamHealth]:
    progress = read_rows(settings.table(progress_table.TABLE).path)
    return [stream_health(settings, n, cp, progress, kafka_timeout=kafka_timeout) for n, cp in discover(settings, progress).items()]
