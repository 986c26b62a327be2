"""ops.stream_progress: one row per micro-batch progress event of an ingest query.

Ingest hands `recorder(ctx, stream, checkpoint)` to its query runner, which calls it with each
batch's progress as the batch finishes (continuous runs too): its rows and rates are lakectl's own
figures (the batch's rows counted once, and what it committed: lakectl.lake.batch_report), not Spark's
per-source counts. Rows are appended with delta-rs (the Spark session is not needed for a few rows).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext

TABLE = "ops.stream_progress"
log = logging.getLogger(__name__)


COLUMNS: list[tuple[str, str]] = [
    ("stream", "string"),
    ("checkpoint", "string"),
    ("run_id", "string"),
    ("query_id", "string"),
    ("query_run_id", "string"),
    ("batch_id", "int64"),
    ("timestamp", "timestamp"),
    ("num_input_rows", "int64"),
    ("input_rows_per_second", "float64"),
    ("processed_rows_per_second", "float64"),
    ("duration_ms", "int64"),
    ("sources", "string"),
    ("recorded_at", "timestamp"),
    # lakectl's own figures (lakectl.lake.batch_report); num_input_rows above is the batch's rows counted once
    ("spark_input_rows", "int64"),  # Spark's per-source count (one per action that read the batch)
    ("rows_committed", "int64"),
    ("committed", "string"),  # JSON: table -> rows this batch committed to it
    # freshness: the newest event time among the batch's rows, and when the batch's last commit was made
    ("newest_event_time", "timestamp"),
    ("committed_at", "timestamp"),
]


def _ts(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _epoch_ts(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None  # NaN/inf -> null


def progress_rows(progress: list[dict[str, Any]], stream: str, run_id: str, checkpoint: str | None) -> list[dict[str, Any]]:
    """Rows for ops.stream_progress from StreamingQueryProgress dicts (query.recentProgress), as
    lakectl.lake.stream_progress.corrected leaves them."""
    now = datetime.now(UTC)
    rows = []
    for p in progress:
        durations = p.get("durationMs") or {}
        sources = [
            {k: s.get(k) for k in ("description", "startOffset", "endOffset", "latestOffset", "numInputRows")}
            for s in p.get("sources") or []
        ]
        rows.append(
            {
                "stream": stream,
                "checkpoint": checkpoint,
                "run_id": run_id,
                "query_id": p.get("id"),
                "query_run_id": p.get("runId"),
                "batch_id": int(p.get("batchId", -1)),
                "timestamp": _ts(p.get("timestamp")),
                "num_input_rows": int(p.get("numInputRows") or 0),
                "input_rows_per_second": _float(p.get("inputRowsPerSecond")),
                "processed_rows_per_second": _float(p.get("processedRowsPerSecond")),
                "duration_ms": int(durations.get("triggerExecution") or 0),
                "sources": json.dumps(sources, default=str),
                "recorded_at": now,
                "spark_input_rows": int(p.get("sparkInputRows", p.get("numInputRows")) or 0),
                "rows_committed": sum(int(n) for n in (p.get("committed") or {}).values()) if "committed" in p else None,
                "committed": json.dumps(p["committed"]) if "committed" in p else None,
                "newest_event_time": _epoch_ts(p.get("newestEventTime")),
                "committed_at": _epoch_ts(p.get("committedAt")),
            }
        )
    return rows


def record_events(ctx: JobContext, progress: list[dict[str, Any]], stream_name: str, checkpoint: str | None = None) -> int:
    """Append progress events (StreamingQueryProgress dicts) to ops.stream_progress; returns the rows
    written. Never raises: monitoring must never fail an ingest."""
    try:
        rows = progress_rows(progress, stream_name, ctx.run_id, checkpoint)
        if rows:
            from lakectl.lake.deltars import append

            append(ctx.settings.table(TABLE).path, rows, COLUMNS)
        return len(rows)
    except Exception as exc:
        log.warning("could not record stream progress in %s: %s", TABLE, exc)
        return 0


def recorder(ctx: JobContext, stream_name: str, checkpoint: str | None = None) -> Callable[[list[dict[str, Any]]], None]:
    """A progress callback for `lakectl.lake.streaming.run_query`."""

    def record(progress: list[dict[str, Any]]) -> None:
        record_events(ctx, progress, stream_name, checkpoint)

    return record
