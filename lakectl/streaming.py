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


# --- figures and errors of batch functions that run on a Spark Connect server ----------------------------

FIGURES_TABLE = "ops.batch_figures"
FIGURES_SCHEMA = "job string, run_id string, batch_id long, figures string, recorded_at timestamp"
_CARRIED = "[lakectl-error]"


class BatchFigures:
    """Over Spark Connect a foreachBatch function runs in a Python process on the server, so what it
    counts never reaches the client's objects. Each batch appends its figures (JSON) to
    ops.batch_figures keyed by job, run id and batch id, and the client reads them back after the
    query. Local sessions never use this: their batch functions update the job's objects directly.
    Holds only strings, as it travels to the server with the batch function."""

    def __init__(self, ctx: Any, job: str) -> None:
        from lakectl import delta

        handle = ctx.settings.table(FIGURES_TABLE)
        self.job, self.run_id, self.path = job, ctx.run_id, handle.path
        delta.ensure_table(ctx.spark, handle, FIGURES_SCHEMA, props={"delta.checkpointInterval": "10"})

    def record(self, spark: Any, batch_id: int, figures: str) -> None:
        from pyspark.sql import functions as F

        row = spark.createDataFrame([(self.job, self.run_id, int(batch_id), figures)],
                                    "job string, run_id string, batch_id long, figures string")
        row.withColumn("recorded_at", F.current_timestamp()).write.format("delta").mode("append").save(self.path)

    def collect(self, spark: Any) -> list[str]:
        """This run's figures, one per batch (the last one recorded for a batch id), in batch order."""
        from pyspark.sql import functions as F

        rows = (spark.read.format("delta").load(self.path)
                .where((F.col("job") == self.job) & (F.col("run_id") == self.run_id))
                .select("batch_id", "figures", "recorded_at").collect())
        latest: dict[int, Any] = {}
        for r in rows:
            if r["batch_id"] not in latest or r["recorded_at"] >= latest[r["batch_id"]]["recorded_at"]:
                latest[r["batch_id"]] = r
        return [latest[b]["figures"] for b in sorted(latest)]


def carry_error(exc: Exception) -> RuntimeError:
    """A lakectl error raised in a batch function on a Connect server, wrapped so that its kind,
    message and hint survive the trip to the client inside the server's error text."""
    from lakectl.errors import LakectlError

    hint = exc.hint if isinstance(exc, LakectlError) else None
    message = exc.message if isinstance(exc, LakectlError) else str(exc)
    payload = json.dumps({"kind": type(exc).__name__, "message": message, "hint": hint})
    return RuntimeError(f"{_CARRIED}{payload}{_CARRIED}")


def recover_error(exc: BaseException) -> Exception | None:
    """The lakectl error `carry_error` wrapped, found in a streaming failure's text (None if absent)."""
    import re

    from lakectl import errors

    cause: BaseException | None = exc
    while cause is not None:
        found = re.search(re.escape(_CARRIED) + r"(\{.*?\})" + re.escape(_CARRIED), str(cause), re.S)
        if found:
            try:
                data = json.loads(found.group(1))
            except ValueError:
                return None
            kind = getattr(errors, str(data.get("kind")), None)
            if not (isinstance(kind, type) and issubclass(kind, errors.LakectlError)):
                kind = errors.JobFailed
            return kind(str(data.get("message")), data.get("hint"))
        cause = cause.__cause__ or cause.__context__
    return None
