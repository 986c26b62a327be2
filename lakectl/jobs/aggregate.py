"""aggregate: silver.events -> gold.* tables, incrementally from silver's change data feed.

For each gold table the job remembers the last silver version it has folded in (a small JSON state
under <checkpoints>/aggregate). A run reads silver's change feed since then, finds the days the
changed rows belong to, recomputes those days from ALL their silver rows (so distinct counts stay
exact) and writes just those days to the gold table in one commit: replaced (replaceWhere) where the
table holds them, appended when all are newer than its last day. Every gold row belongs to one day, so
this equals a full recompute. A MERGE of the touched keys did the same work
plus a join against gold and cost 1.5-2.7 s per table whatever the change's size. The job recomputes
the whole table instead when that is cheaper or required: no state yet, no change feed, touched days
>= `aggregate.full_refresh_threshold` of all days, or --full-refresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.faults import kill_point
from lakectl.core.results import Result, Timer
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import AggregateParams
from lakectl.lake.checkpoints import stage_lock
from lakectl.lake.delta import log_version
from lakectl.pipeline.gold.builders import GOLD, GoldSpec
from lakectl.pipeline.gold.export import export
from lakectl.pipeline.gold.refresh import RefreshPlan, load_state, make_plans, save_state
from lakectl.pipeline.gold.summary import kpi_summary
from lakectl.pipeline.gold.writer import create_tables, last_commit_rows, read_scores, read_silver, write_days, write_full


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, AggregateParams)
    if (p.export_format is None) != (p.export_dir is None):
        raise UsageError("--export needs both a format and a folder", "e.g. --export csv ./exports")
    if p.dry_run:
        return _run(ctx, p)
    # One run at a time: two could both append the same new day, and their states would race.
    with stage_lock(ctx.settings.storage.checkpoints_dir, "aggregate"):  # = state_path(ctx).parent
        return _continuous(ctx, p) if p.continuous else (_nothing_to_do(ctx, p) or _run(ctx, p))


def _continuous(ctx: JobContext, p: AggregateParams) -> Result:
    """Refresh gold per micro-batch of silver's change feed (lakectl.pipeline.gold.stream) until stopped:
    SIGINT/SIGTERM end in Interrupted (exit 130) after the batch in flight, with what was committed."""
    from lakectl.core.errors import Interrupted
    from lakectl.lake.batch_report import BatchReports
    from lakectl.lake.checkpoints import checkpoint_app_id, checkpoint_lock
    from lakectl.lake.streaming import run_query, stoppable
    from lakectl.monitor.progress import recorder
    from lakectl.pipeline.gold.refresh import change_feed_enabled
    from lakectl.pipeline.gold.stream import SCORES, GoldRefresh, source, starting_version

    spark, silver = ctx.spark, ctx.settings.table("silver.events")
    if log_version(spark, silver.path) < 0:
        raise TableNotFound(f"{silver.display} does not exist at {silver.path}", "run `lakectl transform` first")
    if not change_feed_enabled(spark, silver.path):
        raise UsageError(f"{silver.display} has no change data feed", "run `lakectl aggregate` in batches, or recreate silver")
    checkpoint = ctx.settings.storage.checkpoints_dir / "aggregate" / "stream"
    with_scores = log_version(spark, ctx.settings.table(SCORES).path) >= 0
    app_id = checkpoint_app_id(checkpoint, {"source": silver.display, "path": silver.path, "scores": with_scores})
    reports = BatchReports.for_job(ctx, "aggregate")
    threshold = p.full_refresh_threshold if p.full_refresh_threshold is not None else ctx.settings.aggregate.full_refresh_threshold
    scores_version = log_version(spark, ctx.settings.table(SCORES).path)
    # the gold tables exist with their schema and properties before the first batch, as a batch run makes them
    create_tables(ctx, read_silver(spark, silver.path, log_version(spark, silver.path)), read_scores(spark, ctx, scores_version))
    stream = source(spark, ctx, with_scores=with_scores, starting_version=starting_version(ctx))
    writer = (
        stream.writeStream.foreachBatch(stoppable(GoldRefresh(ctx, app_id, reports, threshold)))
        .option("checkpointLocation", str(checkpoint / "offsets"))
        .queryName("aggregate-gold")
    )

    def result(status: str) -> Result:
        found = [r for _, r, _ in reports.collect(spark)]
        written: dict[str, int] = {}
        for r in found:
            for table, n in r.written.items():
                written[table] = written.get(table, 0) + n
        newest = max((r.newest_event_time for r in found if r.newest_event_time is not None), default=None)
        return Result(
            job="aggregate",
            status=status,
            tables_read=[silver.display],
            tables_written=[t for t, n in written.items() if n],
            rows_read=sum(r.rows for r in found),
            rows_written=sum(written.values()),
            metrics={"continuous": True, "batches": len(found), "checkpoint": str(checkpoint), "newest_event_time": newest},
        )

    with checkpoint_lock(checkpoint, "wait for the other `lakectl aggregate --continuous` to stop"):
        try:
            run_query(
                writer,
                continuous=True,
                interval=p.trigger_interval or ctx.settings.ingest.trigger_interval,
                on_progress=recorder(ctx, "aggregate", str(checkpoint)),
                reports=reports.lookup(spark),
            )
        except Interrupted as exc:
            exc.result = result("interrupted")
            raise
    return result("ok")


SKIPPED = {"written": 0, "deleted": 0, "seconds": 0.0}


def _nothing_to_do(ctx: JobContext, p: AggregateParams) -> Result | None:
    """The result of a run that would change nothing, decided without Spark (then no JVM starts): every gold table
    exists and has folded in silver's latest version (and the review scores' latest, for sentiment). None whenever
    unsure: a remote or catalog table, a missing state, --full-refresh or --export; Spark decides then."""
    from lakectl.lake.pending import latest_version
    from lakectl.lake.preflight import checkable
    from lakectl.pipeline.gold.summary import kpi_summary_from_logs

    silver, scores = ctx.settings.table("silver.events"), ctx.settings.table("silver.review_scores")
    golds = [ctx.settings.table(spec.table) for spec in GOLD]
    if p.full_refresh or p.export_format or not all(checkable(h) for h in (silver, scores, *golds)):
        return None
    silver_version, scores_version = latest_version(silver.path), latest_version(scores.path)
    if silver_version is None or silver_version < 0 or scores_version is None:
        return None
    state = load_state(ctx)
    for spec, gold in zip(GOLD, golds):
        done = state.get(spec.table) or {}
        if (latest_version(gold.path) or -1) < 0 or done.get("silver_version") != silver_version:
            return None
        if spec.table == "gold.sentiment_daily" and done.get("scores_version", -1) != scores_version:
            return None
    metrics: dict[str, Any] = {
        "silver_version": silver_version,
        "modes": {spec.table: "skip" for spec in GOLD},
        "note": f"nothing to do: every gold table holds {silver.display} version {silver_version} (no Spark started)",
    }
    if p.summary:
        summary = kpi_summary_from_logs(ctx)
        if summary is None:
            return None
        metrics["kpi"] = summary
    return Result(
        job="aggregate",
        tables_read=[silver.display] + ([scores.display] if scores_version >= 0 else []),
        metrics=metrics,
        details=[  # as a Spark run that skips every table reports them
            {**RefreshPlan(spec.table, "skip", "up to date", silver_version, silver_version).to_dict(), **SKIPPED, "job": gold.display}
            for spec, gold in zip(GOLD, golds)
        ],
    )


def _run(ctx: JobContext, p: AggregateParams) -> Result:
    from pyspark.sql import functions as F

    silver = ctx.settings.table("silver.events")
    gold_names = [ctx.settings.table(s.table).display for s in GOLD]
    spark = ctx.spark
    silver_version = log_version(spark, silver.path)
    if silver_version < 0:
        raise TableNotFound(f"{silver.display} does not exist at {silver.path}", "run `lakectl transform` first")
    scores_version = log_version(spark, ctx.settings.table("silver.review_scores").path)
    warnings: list[str] = []
    plans = make_plans(
        ctx, silver.path, silver_version, scores_version, warnings, full_refresh=p.full_refresh, threshold=p.full_refresh_threshold
    )
    tables_read = [silver.display] + ([ctx.settings.table("silver.review_scores").display] if scores_version >= 0 else [])
    metrics: dict[str, Any] = {"silver_version": silver_version, "modes": {pl.table: pl.mode for pl in plans}}
    if p.export_format:
        metrics["export"] = {
            "format": p.export_format,
            "dir": str(Path(p.export_dir).absolute()) if "://" not in p.export_dir else p.export_dir,
        }
    if p.dry_run:
        return Result(
            job="aggregate",
            dry_run=True,
            tables_read=tables_read,
            tables_written=gold_names,
            warnings=warnings,
            metrics=metrics,
            details=[pl.to_dict() for pl in plans],
        )

    state = load_state(ctx)
    silver_df = read_silver(spark, silver.path, silver_version)
    scores = read_scores(spark, ctx, scores_version)
    create_tables(ctx, silver_df, scores)
    # The touched days the incremental tables need are scanned once for all of them. A full recompute
    # scans silver per table instead, with only the columns that table reads: caching all of silver
    # cost more to build than the scans it saved, and past the driver's memory it spills to disk.
    days = sorted({d for pl in plans if pl.mode == "incremental" for d in pl.touched_days})
    inc_input = silver_df.where(F.col("event_date").isin(*days)).persist() if days else silver_df

    def write(spec: GoldSpec, plan: RefreshPlan) -> dict[str, Any]:
        gold = ctx.settings.table(spec.table)
        if plan.mode == "skip":
            return {**plan.to_dict(), "written": 0, "deleted": 0, "seconds": 0.0, "job": gold.display}
        before = log_version(spark, gold.path)
        with Timer() as t:
            if plan.mode == "full":
                write_full(ctx, spec, silver_df, scores)
            else:
                write_days(ctx, spec, inc_input, scores, plan)
        counts = last_commit_rows(spark, gold.path, ctx.run_id, before)
        return {**plan.to_dict(), **counts, "seconds": t.seconds, "job": gold.display}

    details = []
    try:
        for spec, plan in zip(GOLD, plans):
            details.append(write(spec, plan))
            kill_point("aggregate.before_state")  # this gold table committed, its state not saved
            state[spec.table] = {"silver_version": silver_version, "scores_version": scores_version}
            save_state(ctx, state)
    finally:
        if inc_input is not silver_df:
            inc_input.unpersist()
    written = sum(d["written"] for d in details)
    result = Result(
        job="aggregate",
        tables_read=tables_read,
        tables_written=[d["job"] for d in details if d.get("written") or d.get("deleted")],  # those that changed
        warnings=warnings,
        rows_written=written,
        details=details,
        metrics=metrics,
    )
    # every plan counts the feed rows after its own version: the one that starts earliest saw them all
    result.rows_read = max((pl.changed_rows for pl in plans if pl.mode == "incremental"), default=0)
    if p.summary:
        summary = kpi_summary(ctx)
        metrics["kpi"] = summary
        if all(pl.mode == "full" for pl in plans):
            result.rows_read = summary.get("silver_rows", 0)
    if p.export_format and p.export_dir:
        metrics["export"]["paths"] = export(ctx, p.export_format, p.export_dir)
    return result
