"""`lakectl score --via endpoint URL|NAME` and `--via ai_query NAME`: scoring by a served model.

The pending reviews and the write are batch scoring's (`pending`, `merge` of lakectl.ml.review_scores):
only reviews without a score from the model version are sent, and each chunk lands through the same
MERGE on (event_id, model_version), so a retried batch, a crash or a rerun never scores a review
twice. The reviews are pulled a partition at a time and sent in chunks, so the driver holds at most
one chunk of texts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.results import Result

if TYPE_CHECKING:
    from lakectl.engine.context import JobContext
    from lakectl.ml.endpoint import Endpoint, Scorer
    from lakectl.ml.registry import ModelRef

VIA = ("endpoint", "ai_query")


class ServeOptions(Protocol):
    """What scoring through a served model is asked (score's parameters have these fields)."""

    model: str | None
    rescore: bool
    dry_run: bool
    via: str | None
    endpoint: str | None
    batch_size: int
    concurrency: int
    max_attempts: int
    request_timeout_s: float


CHUNK_BATCHES = 8  # batches per concurrent slot in one chunk (one MERGE per chunk)


def run(ctx: JobContext, p: ServeOptions) -> Result:
    from lakectl.lake.delta import table_version
    from lakectl.ml import registry
    from lakectl.ml.review_scores import SOURCE, TARGET, pending, run_metrics
    from lakectl.ml.store import connect, store_of

    if p.via is None:
        from lakectl.ml.store import mask_uri

        raise UsageError(
            f"endpoint {mask_uri(p.endpoint or '')!r} given without --via",
            "add --via endpoint (a URL or serving endpoint NAME) or --via ai_query",
        )
    if p.via not in VIA:
        raise UsageError(f"--via {p.via!r} is not one of {', '.join(VIA)}", "e.g. --via endpoint http://127.0.0.1:5000")
    if not p.endpoint:
        raise UsageError(
            f"--via {p.via} needs the endpoint: a URL or a serving endpoint NAME", "e.g. lakectl score --via endpoint http://127.0.0.1:5000"
        )
    if p.batch_size < 1 or p.concurrency < 1 or p.max_attempts < 1 or not p.request_timeout_s > 0:
        raise UsageError("--batch-size, --concurrency and --max-attempts must be at least 1, --request-timeout above 0")
    databricks = ctx.target.kind == "databricks"
    if p.via == "ai_query" and not databricks:
        raise UsageError(
            "--via ai_query runs SQL ai_query() and needs a Databricks target", "use --target <databricks target>, or --via endpoint URL"
        )
    if p.via == "ai_query":
        from lakectl.ml.endpoint import check_endpoint_name

        check_endpoint_name(p.endpoint)
    endpoint = None if p.via == "ai_query" else open_endpoint(ctx, p.endpoint, timeout_s=p.request_timeout_s)

    store = store_of(ctx.settings, ctx.target)
    ref = registry.resolve(connect(store, create=False), p.model or f"{store.model_name}@{registry.CHAMPION}", store.model_name)
    source, target = ctx.settings.table(SOURCE), ctx.settings.table(TARGET)
    spark = ctx.spark
    source_version = table_version(spark, source.path)
    if source_version < 0:
        raise TableNotFound(f"{source.display} does not exist at {source.path}", "run `lakectl transform` first")
    target_version = table_version(spark, target.path)
    todo = pending(spark, source.path, source_version, target.path if target_version >= 0 else None, ref.version, p.rescore)
    served_by = endpoint.display if endpoint else f"ai_query({p.endpoint})"
    metrics: dict[str, Any] = {
        **run_metrics(ref, source_version, p.rescore),
        "via": p.via,
        "served_by": served_by,
        "requests": 0,
        "retries": 0,
    }
    result = Result(job="score", tables_read=[source.display], tables_written=[target.display], metrics=metrics)
    if p.dry_run:
        n = todo.count()
        result.dry_run, result.status, result.rows_read = True, "dry_run", n
        metrics["would_score"] = n
        if endpoint:
            metrics["would_request"] = math.ceil(n / p.batch_size)
            metrics["plan"] = (
                f"would send {n} review(s) to {served_by} in {metrics['would_request']} request(s) of up to "
                f"{p.batch_size}, {p.concurrency} at a time"
            )
        else:
            metrics["plan"] = f"would score {n} review(s) with SQL ai_query on serving endpoint {p.endpoint}"
        return result
    if endpoint is None:
        result.rows_read, result.rows_written = _score_with_ai_query(ctx, todo, ref, p)
        return result
    from lakectl.ml.endpoint import RetryPolicy, Scorer

    scorer = Scorer(endpoint, batch_size=p.batch_size, concurrency=p.concurrency, retry=RetryPolicy(attempts=p.max_attempts))
    chunk_rows = p.batch_size * p.concurrency * CHUNK_BATCHES
    try:
        buffer: list[tuple[str, str]] = []
        for row in todo.toLocalIterator():
            buffer.append((row["event_id"], row["review_text"]))
            if len(buffer) >= chunk_rows:
                result.rows_written += _write_chunk(ctx, buffer, scorer, ref, p.rescore)
                result.rows_read += len(buffer)
                buffer = []
        if buffer:
            result.rows_written += _write_chunk(ctx, buffer, scorer, ref, p.rescore)
            result.rows_read += len(buffer)
    finally:
        metrics.update(requests=scorer.counters.requests, retries=scorer.counters.retries)
    return result


def open_endpoint(ctx: JobContext, endpoint: str, *, timeout_s: float) -> Endpoint:
    """A URL is an MLflow scoring server; a bare NAME a serving endpoint of the Databricks target."""
    from lakectl.ml.endpoint import MlflowServer, ServingEndpoint, check_endpoint_name

    if "://" in endpoint:
        return MlflowServer(endpoint, timeout_s=timeout_s)
    target = ctx.target
    if target.kind != "databricks":
        raise UsageError(
            f"endpoint {endpoint!r} is not a URL, and a serving endpoint NAME needs a Databricks target",
            "give the scoring server's URL, e.g. http://127.0.0.1:5000, or use --target <databricks target>",
        )
    from lakectl.engine.workspace import host_label, workspace_client

    check_endpoint_name(endpoint)  # before connecting
    return ServingEndpoint(workspace_client(target), endpoint, host_label(target))


def _write_chunk(ctx: JobContext, rows: list[tuple[str, str]], scorer: Scorer, ref: ModelRef, rescore: bool) -> int:
    """Score one chunk through the endpoint and MERGE it; returns the rows written."""
    scores = scorer.score([text for _, text in rows])
    scored = ctx.spark.createDataFrame([(eid, s) for (eid, _), s in zip(rows, scores)], "event_id string, score double")
    return _land(ctx, scored, ref, rescore)


def _score_with_ai_query(ctx: JobContext, todo: Any, ref: ModelRef, p: ServeOptions) -> tuple[int, int]:
    """One statement: the pending reviews scored by SQL ai_query() on the serving endpoint, then MERGEd."""
    from lakectl.core import sql
    from lakectl.lake.delta import temp_view

    with temp_view(todo) as view:
        scored = ctx.spark.sql(sql.ai_query_scores_sql(p.endpoint or "", view)).cache()
        try:
            n = scored.count()
            return n, (_land(ctx, scored, ref, p.rescore) if n else 0)
        finally:
            scored.unpersist()


def _land(ctx: JobContext, scored: Any, ref: ModelRef, rescore: bool) -> int:
    """(event_id, score) rows with batch scoring's other columns, through its MERGE."""
    from pyspark.sql import functions as F

    from lakectl.ml.review_scores import SCORE_COLUMNS, TARGET, merge

    out = scored.select(
        "event_id",
        F.col("score").cast("double").alias("score"),
        F.when(F.col("score") >= 0.5, 1).otherwise(0).cast("int").alias("label"),
        F.lit(ref.name).alias("model_name"),
        F.lit(ref.version).alias("model_version"),
        F.lit(ref.alias).cast("string").alias("model_alias"),
        F.current_timestamp().alias("scored_at"),
        F.lit(ref.run_id).cast("string").alias("mlflow_run_id"),
        F.lit(ctx.run_id).alias("run_id"),
    )
    assert tuple(out.columns) == SCORE_COLUMNS
    return merge(ctx.spark, ctx.settings.table(TARGET), out, rescore)
