"""The progress feed counts each row once (issue 33): Spark's per-source count is replaced by the batch's
own report, rates follow, each event is handed over once, and the stop line sums what was committed."""

from __future__ import annotations

from lakectl.lake.batch_report import BatchReport
from lakectl.lake.stream_progress import ProgressFeed, batch_line


class _Query:
    def __init__(self) -> None:
        self.recentProgress: list[dict] = []

    @property
    def lastProgress(self) -> dict | None:  # noqa: N802
        return self.recentProgress[-1] if self.recentProgress else None


def _event(batch: int, second: int, rows: int) -> dict:
    return {
        "name": "transform-r1",
        "batchId": batch,
        "timestamp": f"2026-12-07T20:00:{second:02d}.000Z",
        "numInputRows": rows,
        "inputRowsPerSecond": rows / 2,
        "processedRowsPerSecond": rows / 4,
        "durationMs": {"triggerExecution": 4000},
    }


def test_rows_and_rates_come_from_the_batch_report_and_each_event_is_handed_over_once():
    reports = {
        0: BatchReport(2000, {"silver.events": 1900, "silver.reviews": 300, "silver.quarantine": 100}),
        1: BatchReport(1000, {"silver.events": 1000}),
    }
    asked: list[list[int]] = []
    handed: list[dict] = []

    def lookup(ids: list[int]) -> dict[int, BatchReport]:
        asked.append(ids)
        return {b: reports[b] for b in ids if b in reports}

    feed = ProgressFeed(handed.extend, lookup)
    query = _Query()
    query.recentProgress = [_event(0, 1, 6000)]  # Spark counted the batch once per table it wrote
    feed(query)
    feed(query)  # nothing new: not handed over again
    # an idle trigger may carry the next batch's id; the batch itself comes later with the same id
    query.recentProgress += [_event(1, 3, 0), _event(1, 5, 3000)]
    feed(query)

    assert asked == [[0], [1]]
    assert [(p["batchId"], p["numInputRows"]) for p in handed] == [(0, 2000), (1, 0), (1, 1000)]
    first = handed[0]
    assert first["sparkInputRows"] == 6000 and first["processedRowsPerSecond"] == 500 and first["inputRowsPerSecond"] == 1000
    assert batch_line(first) == (
        "lakectl: transform-r1 batch 0: 2,000 rows in 4.0s (500 rows/s), committed silver.events 1,900 + silver.reviews 300 + silver.quarantine 100"
    )
    assert feed.summary() == (
        "2 batch(es) with data, 3,000 rows, committed silver.events 2,900 + silver.reviews 300 + silver.quarantine 100"
    )


def test_without_reports_spark_count_is_kept():
    feed = ProgressFeed(None)
    query = _Query()
    query.recentProgress = [_event(0, 1, 400)]
    feed(query)
    assert feed.summary() == "1 batch(es) with data, 400 rows"
