"""replay: quarantined records re-run through today's parsing and expectations, exactly once.

Rows that pass land in the next layer (bronze.quarantine -> bronze.events, silver.quarantine -> silver.events
+ silver.reviews) through an insert-only MERGE stamped with this run's id; then one MERGE marks the
quarantine rows (moved, dropped, or failing with the new reason). A second replay, or a re-run after a
kill between the two commits, writes nothing new to the next layer.
"""

from __future__ import annotations

from typing import Any

from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import ReplayParams
from lakectl.lake.checkpoints import checkpoint_lock
from lakectl.lake.preflight import checkable, exists
from lakectl.pipeline.replay.marks import Selection, since_instant
from lakectl.pipeline.replay.outcome import ReplayOutcome

QUARANTINE = {"bronze": "bronze.quarantine", "silver": "silver.quarantine"}


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, ReplayParams)
    selection = Selection(rule=p.rule, since=since_instant(p.since) if p.since else None)
    if p.dry_run:
        return _run(ctx, p, selection)
    # One replay of a layer at a time: two would MERGE the same rows and race on the marks.
    lock = ctx.settings.storage.checkpoints_dir / f"replay-{p.layer}"
    with checkpoint_lock(lock, "wait for the other `lakectl replay` to finish", what=f"replay of {QUARANTINE[p.layer]}"):
        return _run(ctx, p, selection)


def _run(ctx: JobContext, p: ReplayParams, selection: Selection) -> Result:
    handle = ctx.settings.table(QUARANTINE[p.layer])
    nothing = Result(
        job="replay", dry_run=p.dry_run, warnings=[f"{handle.display} does not exist: nothing was quarantined, nothing to replay"]
    )
    if checkable(handle) and not exists(handle):
        return nothing  # answered from the file system: no JVM for nothing
    if p.layer == "bronze":
        from lakectl.pipeline.replay.bronze import replay_bronze as replay
    else:
        from lakectl.pipeline.replay.silver import replay_silver as replay
    out = replay(ctx, selection, dry_run=p.dry_run)
    return nothing if out is None else _result(p, out)


def _result(p: ReplayParams, out: ReplayOutcome) -> Result:
    warnings = []
    if out.skipped_without_key:
        warnings.append(f"{out.skipped_without_key} row(s) of {out.quarantine} have no event_id and were left as they are")
    if p.rule and not out.replayed:
        warnings.append(f"no row of {out.quarantine} waiting for a replay failed {p.rule!r}")
    landed = ((out.target, out.inserted), (out.reviews, out.reviews_inserted), (out.quarantine, out.marked))
    written = [] if p.dry_run else [t for t, n in landed if t and n]
    return Result(
        job="replay",
        dry_run=p.dry_run,
        rows_read=out.replayed,
        rows_written=out.moved,
        rows_quarantined=out.still_failing,
        tables_read=[out.quarantine],
        tables_written=written,
        warnings=warnings,
        details=[{"rule": rule, "still_failing": n} for rule, n in out.failing_by_rule.items()],
        metrics={**{k: v for k, v in out.to_dict().items() if k != "failing_by_rule"}, "rule": p.rule, "since": p.since},
    )
