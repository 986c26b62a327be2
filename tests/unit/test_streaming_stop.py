"""The pieces of a clean stream stop that need no Spark: the batch gate, and the per-batch line."""

from __future__ import annotations

import pickle

import pytest

from lakectl.lake import stream_progress, streaming


def test_the_gate_refuses_new_batches_once_a_stop_is_requested():
    seen = []
    batch = streaming.stoppable(lambda df, i: seen.append(i))
    batch(None, 0)
    streaming._STOP.set()
    try:
        with pytest.raises(RuntimeError, match="stop requested: batch 1 not started"):
            batch(None, 1)
        assert streaming._GATE_CLOSED.is_set()
    finally:
        streaming._STOP.clear()
        streaming._GATE_CLOSED.clear()
    assert seen == [0]


def _noop(df, batch_id):  # noqa: ANN001, ANN202
    return None


def test_the_gate_pickles_for_spark_connect():
    import cloudpickle

    pickle.loads(cloudpickle.dumps(streaming.stoppable(_noop)))(None, 3)


def test_batch_line_shows_rows_rate_and_kafka_lag():
    progress = {
        "name": "ingest-kafka",
        "batchId": 7,
        "numInputRows": 20000,
        "processedRowsPerSecond": 6452.1,
        "durationMs": {"triggerExecution": 3100},
        "sources": [{"endOffset": '{"t": {"0": 100, "1": 50}}', "latestOffset": {"t": {"0": 150, "1": 80}}}],
    }
    assert stream_progress.batch_line(progress) == "lakectl: ingest-kafka batch 7: 20,000 rows in 3.1s (6,452 rows/s), lag 80 records"
    files = {**progress, "sources": [{"endOffset": {"logOffset": 3}, "latestOffset": None}]}
    assert "lag" not in stream_progress.batch_line(files)


class _Query:
    """The few StreamingQuery members the stop logic uses; stop() records whether a batch was still running."""

    def __init__(self) -> None:
        self.isActive = True
        self.stopped_while_running: list[int] = []
        self.lastProgress = None
        self.recentProgress: list = []

    def awaitTermination(self, timeout: float) -> bool:  # noqa: N802
        import time

        time.sleep(min(timeout, 0.05))
        return False

    def stop(self) -> None:
        self.stopped_while_running.append(streaming.batches_running())
        self.isActive = False


def test_a_local_stop_waits_for_the_batch_in_flight_to_return():
    """The race behind a SIGINT failing the stream (exit 1, "exception raised by the Python Proxy"): the query
    was stopped, by stale progress, while its batch function still ran, which cancels the batch's Spark jobs."""
    import threading

    started, release = threading.Event(), threading.Event()

    def slow_batch(df, batch_id):  # noqa: ANN001, ANN202
        started.set()
        release.wait(5)

    batch = streaming.stoppable(slow_batch)
    worker = threading.Thread(target=batch, args=(None, 1))
    worker.start()
    started.wait(5)
    query = _Query()
    streaming._STOP.set()
    try:
        stopper = threading.Thread(target=streaming._stop_when_no_batch_runs, args=(query, stream_progress.ProgressFeed(None)))
        stopper.start()
        stopper.join(0.5)
        assert stopper.is_alive() and query.isActive  # still waiting: the batch in flight has not returned
        release.set()
        worker.join(5)
        stopper.join(5)
        assert query.stopped_while_running == [0] and not query.isActive
        with pytest.raises(RuntimeError, match="not started"):  # and nothing new could start meanwhile
            batch(None, 2)
    finally:
        streaming._STOP.clear()
        streaming._GATE_CLOSED.clear()


class _FailingAfterSignal(_Query):
    """A query whose awaitTermination gets the signal and then raises the error of the batch the gate refused,
    as Spark does when that batch fails while the main thread waits (the race that made SIGINT exit 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.error: Exception | None = None
        self.status = {"isTriggerActive": False}

    def awaitTermination(self, timeout: float) -> bool:  # noqa: N802
        import os
        import signal

        os.kill(os.getpid(), signal.SIGINT)  # the handler lakectl installed runs here
        self.isActive = False
        self.error = RuntimeError(f"[FOREACH_BATCH_USER_FUNCTION_ERROR] ... {streaming._STOP_MARK}: batch 2 not started")
        raise self.error

    def exception(self) -> Exception | None:
        return self.error


class _Writer:
    def __init__(self, query: _Query) -> None:
        self.query = query

    def trigger(self, **_: object) -> _Writer:
        return self

    def start(self) -> _Query:
        return self.query


def test_a_stop_that_lands_while_awaiting_termination_is_an_interruption_not_a_failure():
    from lakectl.core.errors import Interrupted

    with pytest.raises(Interrupted, match="stopped by SIGINT"):
        streaming.run_query(_Writer(_FailingAfterSignal()), continuous=True, interval="1 second")
    assert not streaming._STOP.is_set()  # cleared for the next query of the process


def test_an_error_without_a_stop_request_is_still_raised():
    class Broken(_FailingAfterSignal):
        def awaitTermination(self, timeout: float) -> bool:  # noqa: N802
            self.isActive = False
            self.error = RuntimeError("disk full")
            raise self.error

    with pytest.raises(RuntimeError, match="disk full"):
        streaming.run_query(_Writer(Broken()), continuous=True, interval="1 second")
