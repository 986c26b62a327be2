"""What a streaming micro-batch committed, in lakectl's own figures: the rows the batch held (each counted
once) and the rows each table got.

Progress lines, stop lines, ops.stream_progress and `monitor streams` read these instead of Spark's
per-source input counts, which count a batch once per action that reads it (transform reads its batch for
silver, reviews and quarantine: three times the truth). On a local session a batch function runs in this
process and leaves its report in a dict; over Spark Connect it runs on the server and the report travels
through ops.batch_figures (lakectl.lake.server_batches)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from lakectl.lake.server_batches import BatchFigures


@dataclass
class BatchReport:
    rows: int  # the batch's input rows, each counted once
    written: dict[str, int] = field(default_factory=dict)  # table -> rows this batch committed to it
    newest_event_time: float | None = None  # epoch seconds of the newest event_time among the batch's rows
    committed_at: float = field(default_factory=time.time)  # epoch seconds, after the batch's last commit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchReport:
        return cls(
            rows=int(data.get("rows") or 0),
            written={str(k): int(v) for k, v in (data.get("written") or {}).items()},
            newest_event_time=data.get("newest_event_time"),
            committed_at=float(data.get("committed_at") or 0.0),
        )


def epoch(value: Any) -> float | None:
    """A Spark timestamp (a naive datetime is UTC: lakectl's session time zone) as epoch seconds."""
    if value is None:
        return None
    from datetime import UTC

    return float((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


class BatchReports:
    """Where a streaming job's batch function leaves each batch's report (and the job's own per-batch
    figures, JSON-able), and where the job's progress feed and result find them. Travels to a Spark
    Connect server with the batch function: holds only strings and a dict."""

    def __init__(self, figures: BatchFigures | None = None) -> None:
        self.figures = figures  # set when the batch functions run on a Spark Connect server
        self._local: dict[int, tuple[BatchReport, Any]] = {}

    @classmethod
    def for_job(cls, ctx: Any, job: str) -> BatchReports:
        """Reports kept in this process, or in ops.batch_figures when the batches run on a server."""
        return cls(BatchFigures(ctx, job) if ctx.engine.capabilities.batches_on_server else None)

    def record(self, spark: Any, batch_id: int, report: BatchReport, figures: Any = None) -> None:
        """Called by the batch function once its batch has committed."""
        if self.figures is not None:
            self.figures.record(spark, batch_id, json.dumps({"report": report.to_dict(), "figures": figures}))
        else:
            self._local[int(batch_id)] = (report, figures)

    def reports(self, spark: Any, batch_ids: list[int]) -> dict[int, BatchReport]:
        """The reports of these batches that exist (a batch that failed has none)."""
        wanted = {int(b) for b in batch_ids}
        if self.figures is None:
            return {b: self._local[b][0] for b in wanted if b in self._local}
        found = self.figures.collect_ids(spark, sorted(wanted)) if wanted else {}
        return {b: BatchReport.from_dict(json.loads(text)["report"]) for b, text in found.items()}

    def lookup(self, spark: Any) -> Any:
        """`reports` bound to a session: what lakectl.lake.streaming.run_query asks for each finished batch."""
        return lambda batch_ids: self.reports(spark, batch_ids)

    def collect(self, spark: Any) -> list[tuple[int, BatchReport, Any]]:
        """Every batch of this run: (batch id, report, the job's figures), in batch order."""
        if self.figures is None:
            return [(b, r, f) for b, (r, f) in sorted(self._local.items())]
        out = []
        for b, text in sorted(self.figures.collect_ids(spark, None).items()):
            data = json.loads(text)
            out.append((b, BatchReport.from_dict(data["report"]), data.get("figures")))
        return out
