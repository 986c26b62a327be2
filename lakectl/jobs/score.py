"""score: batch-score silver.reviews with a registered model into silver.review_scores.

Incremental and exactly once: only reviews without a score from the model version in use are
scored, and they are written with a MERGE on (event_id, model_version), so a rerun writes nothing
and a run repeated after a crash cannot add a second row. `rescore` rewrites every review's score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakectl.core.errors import TableNotFound
from lakectl.core.faults import kill_point
from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import ScoreParams
from lakectl.ml.review_scores import SOURCE, TARGET, merge_scored, pending, run_metrics, scored_rows


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    from lakectl.lake.delta import table_version
    from lakectl.ml import registry
    from lakectl.ml.store import connect, store_of

    p = parse_params(params, ScoreParams)
    if p.via or p.endpoint:
        from lakectl.ml import served

        if p.continuous:
            from lakectl.core.errors import UsageError

            raise UsageError("--via and --continuous cannot be combined", "stream with the registered model, or score --via in batches")
        return served.run(ctx, p)
    store = store_of(ctx.settings, ctx.target)
    spec = p.model or f"{store.model_name}@{registry.CHAMPION}"
    client = connect(store, create=False)
    ref = registry.resolve(client, spec, store.model_name)
    source, target = ctx.settings.table(SOURCE), ctx.settings.table(TARGET)
    if not p.continuous and (p.dry_run or not p.rescore):
        answered = _answer_from_logs(ctx, p, ref, source, target)
        if answered is not None:
            return answered
    spark = ctx.spark
    source_version = table_version(spark, source.path)
    if source_version < 0:
        raise TableNotFound(f"{source.display} does not exist at {source.path}", "run `lakectl transform` first")
    if p.continuous and not p.dry_run:
        if p.rescore:
            from lakectl.core.errors import UsageError

            raise UsageError("--rescore and --continuous cannot be combined", "rescore in a batch run, then stream")
        return _continuous(ctx, p, ref, source, target)
    target_version = table_version(spark, target.path)
    todo = pending(spark, source.path, source_version, target.path if target_version >= 0 else None, ref.version, p.rescore)
    metrics: dict[str, Any] = run_metrics(ref, source_version, p.rescore)
    result = Result(job="score", tables_read=[source.display], tables_written=[target.display], metrics=metrics)
    if p.dry_run:
        n = todo.count()
        result.dry_run, result.status, result.rows_read = True, "dry_run", n
        metrics["would_score"] = n
        return result
    if todo.limit(1).count():  # the anti-join only: no review is scored to find out
        result.rows_written, result.rows_read = merge_scored(spark, target, scored_rows(todo, ref, ctx.run_id), p.rescore)
        kill_point("score.after_merge")  # committed; the result is not reported yet
    if not result.rows_written:
        result.tables_written = []  # nothing to score: no table got rows
    return result


def _answer_from_logs(ctx: JobContext, p: ScoreParams, ref, source, target) -> Result | None:  # noqa: ANN001
    """A dry run, or a run with nothing to score, answered from the Delta logs without Spark (then no JVM starts).
    None whenever they cannot tell (a remote or catalog table, a feature delta-rs cannot read): Spark decides."""
    from lakectl.lake.pending import latest_version
    from lakectl.lake.preflight import checkable
    from lakectl.ml.review_scores import pending_from_logs

    if not (checkable(source) and checkable(target)):
        return None
    source_version = latest_version(source.path)
    if source_version is None or source_version < 0:
        return None
    todo = pending_from_logs(source.path, target.path, ref.version, p.rescore)
    if todo is None or (todo and not p.dry_run):
        return None
    metrics: dict[str, Any] = run_metrics(ref, source_version, p.rescore)
    if p.dry_run:
        metrics["would_score"] = todo
        return Result(
            job="score",
            dry_run=True,
            status="dry_run",
            rows_read=todo,
            tables_read=[source.display],
            tables_written=[target.display],
            metrics=metrics,
        )
    metrics["note"] = (
        f"nothing to do: every review in {source.display} has a score from {ref.name} version {ref.version} (no Spark started)"
    )
    return Result(job="score", tables_read=[source.display], metrics=metrics)


def checkpoint_dir(ctx: JobContext, p: ScoreParams, ref) -> Path:  # noqa: ANN001
    """One checkpoint per model version: a new version streams silver.reviews from its start, as a batch
    run of that version would score every review."""
    if p.checkpoint:
        return Path(p.checkpoint)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in ref.name)
    return ctx.settings.storage.checkpoints_dir / "score" / f"{safe}-v{ref.version}"


def _continuous(ctx: JobContext, p: ScoreParams, ref, source, target) -> Result:  # noqa: ANN001
    """Stream silver.reviews; each micro-batch scores its reviews that have no score from this version
    and MERGEs them (so a batch replayed after a crash writes nothing twice). Ends on SIGINT/SIGTERM
    after the batch in flight commits (exit 130), like `ingest --continuous`."""
    from lakectl.lake.batch_report import BatchReports
    from lakectl.ml import scoring

    checkpoint = checkpoint_dir(ctx, p, ref)
    scorer = _StreamScorer(ctx, ref, target, None)
    server_copy: str | None = None
    scorer.reports = BatchReports.for_job(ctx, "score")  # over Connect: through ops.batch_figures
    if ctx.engine.capabilities.batches_on_server:
        if not scoring.is_encoder(ref.uri):  # a Spark model holds the client's session: the server loads its own
            from lakectl.ml.connect_compat import spark_model_copy_for_server

            server_copy, scorer.model_path = spark_model_copy_for_server(ref.uri)
    if scorer.model_path is None:
        scorer.model = scoring.load(ref.uri)  # on the driver once; an encoder's weights travel with each batch's function
    from lakectl.core.errors import Interrupted

    try:
        _stream_scores(ctx, p, source, scorer, checkpoint)
    except Interrupted as exc:  # stopped after the batch in flight: the ledger records what was committed
        exc.result = _streamed(ctx, scorer, ref, source, target, "interrupted")
        raise
    finally:
        if server_copy is not None:
            import shutil

            shutil.rmtree(server_copy, ignore_errors=True)
    return _streamed(ctx, scorer, ref, source, target, "ok")  # the query ended by itself


def _streamed(ctx: JobContext, scorer: _StreamScorer, ref, source, target, status: str) -> Result:  # noqa: ANN001
    """What `score --continuous` committed, from its batches' reports."""
    found = [r for _, r, _ in scorer.reports.collect(ctx.spark)]
    return Result(
        job="score",
        status=status,
        tables_read=[source.display],
        tables_written=[target.display] if any(r.written.get(target.display, 0) for r in found) else [],
        rows_read=sum(r.rows for r in found),
        rows_written=sum(r.written.get(target.display, 0) for r in found),
        metrics={
            "model_name": ref.name,
            "model_version": ref.version,
            "model_alias": ref.alias,
            "model_uri": ref.uri,
            "continuous": True,
            "batches": len(found),
        },
    )


def _stream_scores(ctx: JobContext, p: ScoreParams, source, scorer: _StreamScorer, checkpoint: Path) -> None:  # noqa: ANN001
    from lakectl.lake.checkpoints import checkpoint_lock
    from lakectl.lake.streaming import run_query, stoppable

    spark = ctx.spark
    with checkpoint_lock(checkpoint, "wait for the other `lakectl score --continuous` on this model version to stop"):
        query = (
            spark.readStream.format("delta")
            .load(source.path)
            .writeStream.foreachBatch(stoppable(scorer))
            .option("checkpointLocation", str(checkpoint / "offsets"))
            .queryName(f"score-{ctx.run_id}")
        )
        run_query(
            query,
            continuous=True,
            interval=p.trigger_interval or ctx.settings.ingest.trigger_interval,
            reports=scorer.reports.lookup(spark),  # each review counted once (Spark counts every read of the batch)
        )


class _StreamScorer:
    """foreachBatch body of `score --continuous`."""

    def __init__(self, ctx: JobContext, ref, target, model) -> None:  # noqa: ANN001
        from lakectl.lake.batch_report import BatchReports

        self.ctx, self.ref, self.target, self.model = ctx, ref, target, model
        self.reports = BatchReports()  # what each batch held and scored; over Connect, through ops.batch_figures
        self.model_path: str | None = None  # over Connect, a Spark model's pipeline folder, loaded by the server

    def __call__(self, batch, batch_id: int) -> None:  # noqa: ANN001
        from pyspark.sql import functions as F

        from lakectl.lake.batch_report import BatchReport
        from lakectl.lake.delta import table_version

        spark = batch.sparkSession
        if self.model is None and self.model_path is not None:  # once per server-side worker
            from pyspark.ml import PipelineModel

            self.model = PipelineModel.load(self.model_path)
        # The batch's size, counted once here: Spark's per-source count adds every read of the batch (the
        # anti-join check and the MERGE: 667 for 400 reviews over Connect).
        held = batch.count()
        todo = batch.where(F.col("review_text").isNotNull()).select("event_id", "review_text")
        if table_version(spark, self.target.path) >= 0:  # a batch run or a replayed batch may have scored some
            done = spark.read.format("delta").load(self.target.path).where(F.col("model_version") == self.ref.version).select("event_id")
            todo = todo.join(done, "event_id", "left_anti")
        rows = 0
        if held and todo.limit(1).count():
            rows = merge_scored(spark, self.target, scored_rows(todo, self.ref, self.ctx.run_id, self.model), False)[0]
            kill_point("score.after_merge")
        self.reports.record(spark, batch_id, BatchReport(held, {self.target.display: rows} if rows else {}))
