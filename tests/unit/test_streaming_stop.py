"""The pieces of a clean stream stop that need no Spark: the batch gate, and the per-batch line."""

from __future__ import annotations

import pickle

import pytest

from lakectl import streaming


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
    progress = {"name": "ingest-kafka", "batchId": 7, "numInputRows": 20000, "processedRowsPerSecond": 6452.1,
                "durationMs": {"triggerExecution": 3100},
                "sources": [{"endOffset": '{"t": {"0": 100, "1": 50}}', "latestOffset": {"t": {"0": 150, "1": 80}}}]}
    assert streaming.batch_line(progress) == "lakectl: ingest-kafka batch 7: 20,000 rows in 3.1s (6,452 rows/s), lag 80 records"
    files = {**progress, "sources": [{"endOffset": {"logOffset": 3}, "latestOffset": None}]}
    assert "lag" not in streaming.batch_line(files)
