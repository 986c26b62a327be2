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

from lakectl.core.errors import CheckpointConflict, Interrupted

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

# Set by SIGINT/SIGTERM while a continuous query runs: batch functions wrapped in `stoppable` start
# no new batch once it is set. A process-wide flag, because a signal is process-wide too.
_STOP = threading.Event()
_GATE_CLOSED = threading.Event()  # a stoppable batch refused to start (this process: a local session)
_STOP_MARK = "lakectl: stop requested"
# Batch functions running in this process now. Counted before the gate looks at _STOP, so once _STOP is
# set a count of 0 means no batch is working and none will start: the query can be stopped without
# cancelling a batch's Spark jobs half-way (which fails the query instead of stopping it).
_RUNNING = 0
_RUNNING_LOCK = threading.Lock()


def stoppable(batch_fn: Callable[[Any, int], None]) -> Callable[[Any, int], None]:
    """Wrap a foreachBatch function so that no new batch starts after SIGINT/SIGTERM: the batch
    in flight finishes and commits; the next one fails before reading anything, so the query ends
    and that batch is replayed, from the same offsets, by the next run."""
    return _Stoppable(batch_fn)


class _Stoppable:
    # A module-level class, not a closure: Spark Connect pickles the batch function for its
    # server-side worker, and a closure over the module's Events would not pickle. There the flag
    # is never set; run_query's fallback stops the query after the batch in flight instead.
    def __init__(self, batch_fn: Callable[[Any, int], None]) -> None:
        self.batch_fn = batch_fn

    def __call__(self, df: Any, batch_id: int) -> None:
        global _RUNNING
        with _RUNNING_LOCK:
            _RUNNING += 1
        try:
            if _STOP.is_set():
                _GATE_CLOSED.set()
                raise RuntimeError(f"{_STOP_MARK}: batch {batch_id} not started")
            self.batch_fn(df, batch_id)
        finally:
            with _RUNNING_LOCK:
                _RUNNING -= 1


def batches_running() -> int:
    """How many `stoppable` batch functions are running in this process."""
    with _RUNNING_LOCK:
        return _RUNNING


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
    """StreamingQueryProgress as a plain dict (a dict already, or a progress object with .json).

    A Spark Connect server's progress JSON has no top-level numInputRows / rates (seen with Spark 4.2):
    they are the sums over the sources, as pyspark's own StreamingQueryProgress properties compute them."""
    data = progress if type(progress) is dict else json.loads(progress.json)
    sources = [s for s in data.get("sources") or [] if isinstance(s, dict)]
    for key in ("numInputRows", "inputRowsPerSecond", "processedRowsPerSecond"):
        if data.get(key) is None and sources:
            data = {**data, key: sum(s.get(key) or 0 for s in sources)}
    return data


def batch_line(p: dict[str, Any]) -> str:
    """One line for a finished micro-batch: rows, rate, duration and, where the source says, lag."""
    rows = int(p.get("numInputRows") or 0)
    seconds = int((p.get("durationMs") or {}).get("triggerExecution") or 0) / 1000
    rate = float(p.get("processedRowsPerSecond") or 0)
    line = f"lakectl: {p.get('name') or 'stream'} batch {p.get('batchId')}: {rows:,} rows in {seconds:.1f}s ({rate:,.0f} rows/s)"
    lag = source_lag(p)
    return line + (f", lag {lag:,} records" if lag is not None else "")


def source_lag(p: dict[str, Any]) -> int | None:
    """Records between a batch's end offsets and the latest offsets its sources saw (Kafka-like
    {topic: {partition: offset}} offsets only); None when no source reports both."""
    total, known = 0, False
    for s in p.get("sources") or []:
        end, latest = _offsets(s.get("endOffset")), _offsets(s.get("latestOffset"))
        if end is None or latest is None:
            continue
        for topic, parts in latest.items():
            for part, offset in parts.items():
                done = (end.get(topic) or {}).get(part)
                if isinstance(offset, int) and isinstance(done, int):
                    total, known = total + max(0, offset - done), True
    return total if known else None


def _offsets(value: Any) -> dict[str, dict[str, Any]] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return value
    return None


def _print_batches(progress: list[dict[str, Any]]) -> None:
    import sys

    for p in progress:
        if int(p.get("numInputRows") or 0):  # not the idle triggers of a caught-up stream
            print(batch_line(p), file=sys.stderr, flush=True)


def run_query(writer: "DataStreamWriter", *, continuous: bool, interval: str,
              on_progress: ProgressCallback | None = None) -> "StreamingQuery":
    """Start the query with availableNow (one shot) or a processing-time trigger (continuous), and wait.

    `on_progress` gets each batch's progress as the batch finishes; in continuous mode each finished
    batch also prints one line on stderr. SIGINT/SIGTERM (either mode) let the batch in flight finish
    and commit, start no new batch (see `stoppable`), and end in Interrupted (exit 130); the next run
    continues where this one stopped."""

    def on_batches(progress: list[dict[str, Any]]) -> None:
        if continuous:
            _print_batches(progress)
        if on_progress is not None:
            on_progress(progress)

    feed = ProgressFeed(on_batches)
    trigger: dict[str, Any] = {"processingTime": interval} if continuous else {"availableNow": True}
    query = writer.trigger(**trigger).start()
    signals: list[str] = []

    def request_stop(signum: int, _frame: Any) -> None:
        signals.append(signal.Signals(signum).name)
        _STOP.set()

    main = threading.current_thread() is threading.main_thread()  # signal handlers: main thread only
    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        try:
            while query.isActive and not signals:
                query.awaitTermination(1)
                feed(query)
        except Exception:
            # A signal's handler runs while awaitTermination waits; the gate may refuse the next batch before it
            # returns, and then it raises the query's error. After a stop request that error is judged below.
            if not signals:
                raise
        if signals:
            if type(writer).__module__.startswith("pyspark.sql.connect"):
                _stop_after_batch_in_flight(query, feed)  # the batch functions run on the server: watch progress
            else:
                _stop_when_no_batch_runs(query, feed)
        feed(query)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _STOP.clear()
    gate_closed = _GATE_CLOSED.is_set()
    _GATE_CLOSED.clear()
    error = query.exception()
    if signals and (error is None or gate_closed or _STOP_MARK in str(error)):
        done = [_as_dict(p) for p in query.recentProgress or []]
        rows = sum(int(p.get("numInputRows") or 0) for p in done)
        batches = len({p.get("batchId") for p in done if int(p.get("numInputRows") or 0)})
        raise Interrupted(f"stopped by {signals[0]} after {batches} batch(es) with data, {rows:,} rows",
                          "run the same command again to continue from the last committed batch")
    if error is not None:
        raise error  # type: ignore[misc]
    return query


def _stop_when_no_batch_runs(query: "StreamingQuery", feed: ProgressFeed) -> None:
    """Local session: wait for the batch function in flight (if any) to return, then stop the query.
    Stopping while it runs would cancel its Spark jobs and fail the query; `_STOP` is set, so no new
    batch can start in between (the gate refuses it and the query ends by itself)."""
    while query.isActive and batches_running():
        try:
            query.awaitTermination(0.2)
        except Exception:  # the query ended with an error (a stoppable batch refusing to start): read by the caller
            return
        feed(query)
    if query.isActive:
        query.stop()


def _stop_after_batch_in_flight(query: "StreamingQuery", feed: ProgressFeed) -> None:
    """Spark Connect: stop the query once no batch is running, judged from its progress (the batch
    functions run on the server, where the stop flag is never set)."""
    last = query.lastProgress
    in_flight = (int(_as_dict(last).get("batchId", -1)) if last else -1) + 1
    while query.isActive:
        last = query.lastProgress
        finished = int(_as_dict(last).get("batchId", -1)) if last else -1
        if not query.status.get("isTriggerActive") or finished >= in_flight:
            query.stop()
            return
        try:
            query.awaitTermination(0.2)
        except Exception:  # the query ended with an error (a stoppable batch refusing to start): read by the caller
            return
        feed(query)


def input_rows(query: "StreamingQuery") -> int:
    """The rows the query read, as a local session reports them; 0 over Spark Connect, whose per-source
    counts add up every action a batch function ran on its batch (1,600 for 1,200 rows read once by ingest
    in a parity run), so callers fall back to the Delta log's figures there."""
    return sum(int(p.get("numInputRows") or 0) for p in query.recentProgress or [])


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
        from lakectl.lake import delta

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
    from lakectl.core.errors import LakectlError

    hint = exc.hint if isinstance(exc, LakectlError) else None
    message = exc.message if isinstance(exc, LakectlError) else str(exc)
    payload = json.dumps({"kind": type(exc).__name__, "message": message, "hint": hint})
    return RuntimeError(f"{_CARRIED}{payload}{_CARRIED}")


def recover_error(exc: BaseException) -> Exception | None:
    """The lakectl error `carry_error` wrapped, found in a streaming failure's text (None if absent)."""
    import re

    from lakectl.core import errors

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
