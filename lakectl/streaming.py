"""Running streaming queries: checkpoint identity, triggers, and a clean stop on Ctrl-C / SIGTERM."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import threading
import time
import uuid
import contextlib
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
def checkpoint_lock(checkpoint: Path, hint: str = STREAM_LOCK_HINT, *, what: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the checkpoint while a query runs: a second process on the same
    checkpoint is refused (CheckpointConflict, exit 6) with the holder's pid, host and start time.
    The OS drops the lock when its holder dies, even by kill -9, so a dead holder never blocks:
    the file it leaves behind is only a note, the flock is the lock."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    fd = os.open(checkpoint / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 256, 0).decode(errors="replace").strip() or "another process"
            raise CheckpointConflict(f"{what or f'checkpoint {checkpoint}'} is in use by {holder}", hint) from None
        os.ftruncate(fd, 0)
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def stage_lock(checkpoints_dir: Path, stage: str) -> "contextlib.AbstractContextManager[None]":
    """The one-at-a-time lock of a batch stage that has no checkpoint of its own (optimize; later
    score, train): <checkpoints>/<stage>/_lakectl.lock, the same mechanism as a stream's checkpoint."""
    return checkpoint_lock(checkpoints_dir / stage, f"wait for the other `lakectl {stage}` to finish",
                           what=f"lakectl {stage} ({checkpoints_dir / stage})")


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
