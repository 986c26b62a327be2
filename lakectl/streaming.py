"""Running streaming queries: checkpoint identity, triggers, and a clean stop on Ctrl-C / SIGTERM."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from lakectl.errors import CheckpointConflict

if TYPE_CHECKING:
    from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

STATE_FILE = "_lakectl.json"
LOCK_FILE = "_lakectl.lock"
STREAM_LOCK_HINT = "wait for it to finish or stop it; two streams on one checkpoint would corrupt it"


@contextmanager
def checkpoint_lock(checkpoint: Path, hint: str = STREAM_LOCK_HINT) -> Iterator[None]:
    """Hold an exclusive lock on the checkpoint while a query runs: a second process on the same
    checkpoint is refused. The OS drops the lock when its holder dies, even by kill -9."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    fd = os.open(checkpoint / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise CheckpointConflict(f"checkpoint {checkpoint} is in use by {holder}", hint) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def checkpoint_app_id(checkpoint: Path, identity: dict[str, Any]) -> str:
    """The stable transaction app id of a checkpoint, created on first use. A checkpoint that was
    made for another source identity is refused: its offsets mean nothing for the new source."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    state_file = checkpoint / STATE_FILE
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if state.get("identity") != identity:
            raise CheckpointConflict(
                f"checkpoint {checkpoint} belongs to another source: {state.get('identity')} (now {identity})",
                "use a new --checkpoint, or delete the old one to start over (bronze keeps what it has)",
            )
        return str(state["app_id"])
    app_id = f"lakectl-{uuid.uuid4().hex}"
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"app_id": app_id, "identity": identity, "created": time.time()}))
    tmp.rename(state_file)
    return app_id


ProgressCallback = Callable[[list[dict[str, Any]]], None]


class ProgressFeed:
    """Hands each finished micro-batch's progress to a callback once, as the query reports it.
    Batch ids only grow within a query run, so the last one handed over is all the state needed."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.last_batch = -1

    def __call__(self, query: "StreamingQuery") -> None:
        if self.callback is None:
            return
        last = query.lastProgress
        if not last or int(_as_dict(last).get("batchId", -1)) <= self.last_batch:
            return  # nothing new: skip fetching the whole recentProgress buffer
        fresh = [p for p in map(_as_dict, query.recentProgress or []) if int(p.get("batchId", -1)) > self.last_batch]
        if fresh:
            self.last_batch = max(int(p["batchId"]) for p in fresh)
            self.callback(fresh)


def _as_dict(progress: Any) -> dict[str, Any]:
    """StreamingQueryProgress as a plain dict (a dict already, or a progress object with .json)."""
    return progress if type(progress) is dict else json.loads(progress.json)


def run_query(writer: "DataStreamWriter", *, continuous: bool, interval: str,
              on_progress: ProgressCallback | None = None) -> "StreamingQuery":
    """Start the query with availableNow (one shot) or a processing-time trigger (continuous), and wait.
    In continuous mode, SIGINT/SIGTERM stop the query after the batch that is running, and
    `on_progress` gets each batch's progress while the query runs (not only when it stops)."""
    feed = ProgressFeed(on_progress)
    if not continuous:
        query = writer.trigger(availableNow=True).start()
        query.awaitTermination()
        feed(query)
        return query
    query = writer.trigger(processingTime=interval).start()
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while query.isActive and not stop.is_set():
            query.awaitTermination(1)
            feed(query)
        if query.isActive:
            while query.status.get("isTriggerActive"):
                time.sleep(0.2)
            query.stop()
        feed(query)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if query.exception() is not None:
        raise query.exception()  # type: ignore[misc]
    return query


def input_rows(query: "StreamingQuery") -> int:
    return sum(int(p.get("numInputRows") or 0) for p in query.recentProgress)


# --- micro-batch size -----------------------------------------------------------------------------

# A micro-batch's input may take this share of the driver's heap. Ingest caches the parsed batch
# uncompressed (about the size of the raw text) and Spark's unified memory is ~60% of (heap - 300 MiB):
# an eighth leaves room for the cache, the Delta write and the next listing. Measured in docs/kafka.md.
BATCH_SHARE_OF_DRIVER_MEMORY = 8
DEFAULT_DRIVER_MEMORY = 2 * 1024**3  # when the target does not say (a Spark Connect server's own driver)
MIN_BATCH_BYTES = 16 * 1024**2
KAFKA_RECORD_BYTES = 1024  # a Kafka record in memory: ~0.4 KiB of JSON, its coordinates and headers, the parsed columns


def driver_memory_bytes(target: Any) -> int | None:
    """The driver heap a target declares (`driver_memory`, or spark.driver.memory in its spark_conf)."""
    from lakectl.maintenance.file_stats import parse_size

    text = getattr(target, "driver_memory", None) or (getattr(target, "spark_conf", None) or {}).get("spark.driver.memory")
    return parse_size(text) if text else None


def micro_batch_bytes(explicit: str | int | None, target: Any) -> int:
    """Input bytes per micro-batch: the configured `max_bytes_per_trigger`, else a share of the driver's
    memory, so that a backlog of any size is read in several bounded batches instead of one."""
    from lakectl.maintenance.file_stats import parse_size

    if explicit is not None:
        return max(1, parse_size(explicit) or 1)
    memory = driver_memory_bytes(target) or DEFAULT_DRIVER_MEMORY
    return max(MIN_BATCH_BYTES, memory // BATCH_SHARE_OF_DRIVER_MEMORY)


def kafka_records_per_batch(batch_bytes: int) -> int:
    """Kafka limits batches in records (maxOffsetsPerTrigger), not bytes."""
    return max(1000, batch_bytes // KAFKA_RECORD_BYTES)
