"""Running a streaming query: availableNow or a processing-time trigger, and a clean stop on Ctrl-C /
SIGTERM that lets the batch in flight commit and starts no new one."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import Interrupted
from lakectl.lake.stream_progress import ProgressCallback, ProgressFeed, ReportLookup, as_dict, print_batches

if TYPE_CHECKING:
    from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

# Set by SIGINT/SIGTERM while a continuous query runs: batch functions wrapped in `stoppable` start
# no new batch once it is set. A process-wide flag, because a signal is process-wide too.
_STOP = threading.Event()
_GATE_CLOSED = threading.Event()  # a stoppable batch refused to start (this process: a local session)
_STOP_MARK = "lakectl: stop requested"
# Why _STOP was set, for queries that run in other threads than the one that caught the signal
# (`lakectl run --continuous` runs one query per stage, each waited on in its own thread).
_STOP_REASON: list[str] = []
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


def run_query(
    writer: DataStreamWriter,
    *,
    continuous: bool,
    interval: str,
    on_progress: ProgressCallback | None = None,
    reports: ReportLookup | None = None,
) -> StreamingQuery:
    """Start the query with availableNow (one shot) or a processing-time trigger (continuous), and wait.

    `on_progress` gets each batch's progress as the batch finishes, its rows and rates taken from
    `reports` (what the batch function says the batch held and committed, lakectl.lake.batch_report)
    where given; in continuous mode each finished batch also prints one line on stderr. SIGINT/SIGTERM
    (either mode) let the batch in flight finish and commit, start no new batch (see `stoppable`), and
    end in Interrupted (exit 130) whose message sums up the batches from the same figures; the next run
    continues where this one stopped."""

    def on_batches(progress: list[dict[str, Any]]) -> None:
        if continuous:
            print_batches(progress)
        if on_progress is not None:
            on_progress(progress)

    feed = ProgressFeed(on_batches, reports)
    trigger: dict[str, Any] = {"processingTime": interval} if continuous else {"availableNow": True}
    query = writer.trigger(**trigger).start()
    signals: list[str] = []

    def request_stop(signum: int, _frame: Any) -> None:
        signals.append(signal.Signals(signum).name)
        _STOP.set()

    # Signal handlers can only be set from the main thread, which then owns the stop flag. A query waited on in
    # another thread (one stage of `run --continuous`) watches the flag its owner sets instead.
    owner = threading.current_thread() is threading.main_thread() and not stop_scope_active()
    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)} if owner else {}

    def stop_seen() -> bool:
        if not signals and not owner and _STOP.is_set():
            signals.append(_STOP_REASON[0] if _STOP_REASON else "SIGTERM")
        return bool(signals)

    try:
        try:
            while query.isActive and not stop_seen():
                query.awaitTermination(1)
                feed(query)
        except Exception:
            # A signal's handler runs while awaitTermination waits; the gate may refuse the next batch before it
            # returns, and then it raises the query's error. After a stop request that error is judged below.
            if not stop_seen():
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
        if owner:
            _STOP.clear()
    gate_closed = _GATE_CLOSED.is_set()
    if owner:
        _GATE_CLOSED.clear()
    error = query.exception()
    if signals and (error is None or gate_closed or _STOP_MARK in str(error)):
        raise Interrupted(
            f"stopped by {signals[0]} after {feed.summary()}",
            "run the same command again to continue from the last committed batch",
        )
    if error is not None:
        raise error  # type: ignore[misc]
    return query


_SCOPES: list[int] = []


def stop_scope_active() -> bool:
    """Whether a `StopScope` owns the stop flag now."""
    return bool(_SCOPES)


class StopScope:
    """Several queries waited on in worker threads, stopped together: SIGINT/SIGTERM (caught here, in the
    main thread) or `stop(reason)` (a stage failed) set the stop flag every `run_query` watches, and each
    stops after its batch in flight. Use as a context manager in the main thread."""

    def __enter__(self) -> StopScope:
        _SCOPES.append(1)
        _STOP_REASON.clear()
        self.signal: str | None = None

        def request_stop(signum: int, _frame: Any) -> None:
            self.signal = self.signal or signal.Signals(signum).name
            self.stop(self.signal)

        self._previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def stop(self, reason: str) -> None:
        if not _STOP_REASON:
            _STOP_REASON.append(reason)
        _STOP.set()

    @property
    def stopping(self) -> bool:
        return _STOP.is_set()

    def __exit__(self, *_exc: object) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        _SCOPES.pop()
        _STOP.clear()
        _GATE_CLOSED.clear()
        _STOP_REASON.clear()


def _stop_when_no_batch_runs(query: StreamingQuery, feed: ProgressFeed) -> None:
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


def _stop_after_batch_in_flight(query: StreamingQuery, feed: ProgressFeed) -> None:
    """Spark Connect: stop the query once no batch is running, judged from its progress (the batch
    functions run on the server, where the stop flag is never set)."""
    last = query.lastProgress
    in_flight = (int(as_dict(last).get("batchId", -1)) if last else -1) + 1
    while query.isActive:
        last = query.lastProgress
        finished = int(as_dict(last).get("batchId", -1)) if last else -1
        if not query.status.get("isTriggerActive") or finished >= in_flight:
            query.stop()
            return
        try:
            query.awaitTermination(0.2)
        except Exception:  # the query ended with an error (a stoppable batch refusing to start): read by the caller
            return
        feed(query)
