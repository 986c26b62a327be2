"""A streaming query's progress: each finished micro-batch handed to a callback once with lakectl's own
figures for it (lakectl.lake.batch_report), one line per batch (rows, rate, duration, what it committed,
Kafka lag), and the run's totals for the stop line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql.streaming import StreamingQuery

    from lakectl.lake.batch_report import BatchReport

ProgressCallback = Callable[[list[dict[str, Any]]], None]
ReportLookup = Callable[[list[int]], "dict[int, BatchReport]"]


class ProgressFeed:
    """Hands each finished micro-batch's progress to a callback once, as the query reports it, with its
    rows and rates taken from the batch's own report (what it committed) where `reports` has one.
    Progress events are ordered by their trigger time, so the last one handed over is all the state
    needed (an idle trigger may repeat the next batch's id, its time is always new). Keeps the run's
    totals for the stop line."""

    def __init__(self, callback: ProgressCallback | None, reports: ReportLookup | None = None) -> None:
        self.callback, self.reports = callback, reports
        self.last_seen: tuple[str, int] = ("", -1)
        self.batches = 0  # batches with data
        self.rows = 0
        self.written: dict[str, int] = {}

    def __call__(self, query: StreamingQuery) -> None:
        last = query.lastProgress
        if not last or _order(as_dict(last)) <= self.last_seen:
            return  # nothing new: skip fetching the whole recentProgress buffer
        fresh = [p for p in map(as_dict, query.recentProgress or []) if _order(p) > self.last_seen]
        if not fresh:
            return
        self.last_seen = max(_order(p) for p in fresh)
        if self.reports is not None:
            busy = [int(p["batchId"]) for p in fresh if int(p.get("numInputRows") or 0)]
            found = self.reports(busy) if busy else {}
            # an idle trigger may carry the next batch's id: only the event with rows is that batch's
            fresh = [
                corrected(p, found[int(p["batchId"])]) if int(p.get("numInputRows") or 0) and int(p["batchId"]) in found else p
                for p in fresh
            ]
        for p in fresh:
            rows = int(p.get("numInputRows") or 0)
            committed = p.get("committed") or {}
            if rows or any(committed.values()):
                self.batches += 1
                self.rows += rows
                for table, n in committed.items():
                    self.written[table] = self.written.get(table, 0) + int(n)
        if self.callback is not None:
            self.callback(fresh)

    def summary(self) -> str:
        """ "3 batch(es) with data, 6,000 rows, committed silver.events 5,900 + silver.quarantine 100"."""
        text = f"{self.batches} batch(es) with data, {self.rows:,} rows"
        return text + (f", committed {committed_text(self.written)}" if self.written else "")


def _order(p: dict[str, Any]) -> tuple[str, int]:
    return (str(p.get("timestamp") or ""), int(p.get("batchId", -1)))


def corrected(p: dict[str, Any], report: BatchReport) -> dict[str, Any]:
    """A progress event with the rows the batch held (counted once) instead of Spark's per-source count,
    its rates scaled alike, and what it committed: `committed` (table -> rows). Spark's own count stays as
    `sparkInputRows`."""
    spark_rows = int(p.get("numInputRows") or 0)
    out = {
        **p,
        "numInputRows": report.rows,
        "sparkInputRows": spark_rows,
        "committed": dict(report.written),
        "newestEventTime": report.newest_event_time,
        "committedAt": report.committed_at,
    }
    seconds = int((p.get("durationMs") or {}).get("triggerExecution") or 0) / 1000
    for key in ("inputRowsPerSecond", "processedRowsPerSecond"):
        rate = p.get(key)
        if spark_rows and rate is not None:
            out[key] = float(rate) * report.rows / spark_rows
        elif key == "processedRowsPerSecond" and seconds:
            out[key] = report.rows / seconds
    return out


def committed_text(written: dict[str, int]) -> str:
    return " + ".join(f"{table} {n:,}" for table, n in written.items())


def as_dict(progress: Any) -> dict[str, Any]:
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
    if p.get("committed"):
        line += f", committed {committed_text(p['committed'])}"
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


def print_batches(progress: list[dict[str, Any]]) -> None:
    import sys

    for p in progress:
        if int(p.get("numInputRows") or 0) or any((p.get("committed") or {}).values()):  # not the idle triggers
            print(batch_line(p), file=sys.stderr, flush=True)
