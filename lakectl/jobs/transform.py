"""transform: bronze.events -> silver.events (+ silver.reviews, silver.quarantine, ops.dq_metrics).

Typed, cleaned, checked against the configured expectations, deduplicated on event_id (within a batch,
and across runs by an insert-only MERGE) and enriched with the customers and products dimensions.
Streams from bronze with its own checkpoint (availableNow by default), or reads all of bronze (--batch).
Every write is replay-safe: the MERGEs ignore event_ids they already hold, and ops.dq_metrics appends
carry txnAppId/txnVersion. An expectation with action `fail` stops the run before anything is committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakectl.core.errors import Interrupted, JobFailed, TableNotFound
from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import TransformParams
from lakectl.lake.batch_report import BatchReports
from lakectl.lake.batch_size import micro_batch_bytes
from lakectl.lake.checkpoints import checkpoint_app_id, checkpoint_lock, pending_delta_rows
from lakectl.lake.delta import is_delta_table, table_version
from lakectl.lake.server_batches import recover_error
from lakectl.lake.streaming import run_query, stoppable
from lakectl.pipeline.silver import cleaning as silver
from lakectl.pipeline.silver.batch import prepare
from lakectl.pipeline.silver.dimensions import Dimensions
from lakectl.pipeline.silver.expectations import Rule, rules_for, validate
from lakectl.pipeline.silver.tables import TransformTables
from lakectl.pipeline.silver.tally import Tally
from lakectl.pipeline.silver.writer import BatchWriter, create_tables

SILVER_TABLE = "silver.events"
_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"


def checkpoint_dir(ctx: JobContext, p: TransformParams) -> Path:
    return Path(p.checkpoint) if p.checkpoint else ctx.settings.storage.checkpoints_dir / "transform"


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, TransformParams)
    if p.dry_run:
        return _plan_from_log(ctx, p) or _run(ctx, p)
    # One run per checkpoint, taken before Spark starts so that a second operator is refused at once.
    with checkpoint_lock(checkpoint_dir(ctx, p), "wait for the other `lakectl transform` to finish or stop it"):
        why = None if p.batch or p.continuous else nothing_to_do(ctx, p)
        if why:
            t = TransformTables.of(ctx.settings)
            return Result(  # as a Spark run that finds nothing reports it: no table got rows
                job="transform",
                tables_read=[t.bronze.display],
                metrics={"mode": "availableNow", "batches": 0, "note": f"nothing to do: {why} (no Spark started)"},
            )
        return _run(ctx, p)


def nothing_to_do(ctx: JobContext, p: TransformParams) -> str | None:
    """Why a one-shot run would change nothing (then no JVM starts): bronze has no data commit the checkpoint has
    not read, and no landing dimension file changed since it was merged. None whenever unsure: Spark decides."""
    from lakectl.lake.pending import latest_version, stream_caught_up
    from lakectl.lake.preflight import checkable
    from lakectl.pipeline.silver.dimensions import unchanged_since_merge

    t = TransformTables.of(ctx.settings)
    if not all(checkable(h) for h in (t.bronze, *t.written())):
        return None
    if (latest_version(t.events.path) or -1) < 0 or not stream_caught_up(t.bronze.path, checkpoint_dir(ctx, p) / "offsets"):
        return None
    if not unchanged_since_merge(ctx.settings, t):
        return None
    return f"no new rows in {t.bronze.display} since the last run, no changed customers or products"


def _plan_from_log(ctx: JobContext, p: TransformParams) -> Result | None:
    """The dry run's plan from bronze's log and the checkpoint (no Spark), or None when they cannot tell."""
    from lakectl.lake.pending import spark_type_names, stream_pending_rows
    from lakectl.lake.preflight import checkable, exists

    t = TransformTables.of(ctx.settings)
    if checkable(t.bronze) and not exists(t.bronze):
        raise TableNotFound(f"{t.bronze.display} does not exist at {t.bronze.path}", "run `lakectl ingest` first")
    if not all(checkable(h) for h in (t.bronze, *t.written())):
        return None
    checkpoint = checkpoint_dir(ctx, p)
    types = spark_type_names(t.bronze.path)
    pending = stream_pending_rows(t.bronze.path, None if p.batch else checkpoint / "offsets") if types is not None else None
    if types is None or pending is None:
        return None
    rules = rules_for(ctx.settings.transform.expectations, SILVER_TABLE)
    mode = p.schema_drift or ctx.settings.transform.schema_drift
    return plan(ctx, p, t, rules, mode, silver.drift_of(types), checkpoint, pending)


def _run(ctx: JobContext, p: TransformParams) -> Result:
    t = TransformTables.of(ctx.settings)
    rules = rules_for(ctx.settings.transform.expectations, SILVER_TABLE)
    mode = p.schema_drift or ctx.settings.transform.schema_drift
    checkpoint = checkpoint_dir(ctx, p)
    spark = ctx.spark
    if not is_delta_table(spark, t.bronze.path):
        raise TableNotFound(f"{t.bronze.display} does not exist at {t.bronze.path}", "run `lakectl ingest` first")
    bronze_schema = spark.read.format("delta").load(t.bronze.path).schema
    drift = silver.detect_drift(bronze_schema)
    if p.dry_run:
        return plan(
            ctx, p, t, rules, mode, drift, checkpoint, pending_delta_rows(spark, t.bronze.path, None if p.batch else checkpoint / "offsets")
        )
    if drift and mode == "fail":
        raise JobFailed(
            f"schema drift in {t.bronze.display}: {drift.describe()}",
            "set transform.schema_drift to rescue (keep unknown values in _rescued) or add (evolve silver), or pass --schema-drift",
        )
    dims = Dimensions.load(spark, ctx.settings, t)
    empty = spark.createDataFrame([], bronze_schema)
    shaped = prepare(empty, drift, mode, dims, ctx.run_id)
    validate(shaped, rules)
    create_tables(spark, t, rules, shaped, dims, ctx.run_id)

    tally = Tally()
    writer = BatchWriter(ctx, t, rules, drift, mode, dims, tally)
    # Over Spark Connect the batch function runs on the server: its figures come back through an ops table.
    on_server = ctx.engine.capabilities.batches_on_server and not p.batch
    if on_server:
        writer.reports = BatchReports.for_job(ctx, "transform")
    previous_meta = spark.conf.get(_USER_METADATA, None)
    spark.conf.set(_USER_METADATA, ctx.run_id)  # tags the MERGE commits of this run (append_once tags its own)
    try:
        if p.batch:
            app_id = checkpoint_app_id(checkpoint / "batch", {"source": t.bronze.display, "path": t.bronze.path, "mode": "batch"})
            writer.app_id = app_id
            version = table_version(spark, t.bronze.path)
            writer(spark.read.format("delta").option("versionAsOf", version).load(t.bronze.path), version)
        else:
            _stream(ctx, p, t, writer, checkpoint)
        if on_server:
            for _, _, batch_json in writer.reports.collect(spark):
                tally.add(Tally.from_json(batch_json))
        if tally.failure is None and not tally.dims_loaded:
            dims.commit(tally)
    except Interrupted as exc:  # stopped after the batch in flight: the ledger records what was committed
        if on_server:
            for _, _, batch_json in writer.reports.collect(spark):
                tally.add(Tally.from_json(batch_json))
        exc.result = _result(ctx, p, t, rules, mode, drift, tally)
        exc.result.status = "interrupted"
        raise
    except Exception as exc:
        if tally.failure is not None:
            raise tally.failure from None
        carried = recover_error(exc)
        if carried is not None:
            raise carried from None
        raise
    finally:
        dims.close()
        if previous_meta is None:
            spark.conf.unset(_USER_METADATA)
        else:
            spark.conf.set(_USER_METADATA, previous_meta)
    return _result(ctx, p, t, rules, mode, drift, tally)


def _stream(ctx: JobContext, p: TransformParams, t: TransformTables, writer: BatchWriter, checkpoint: Path) -> None:
    spark = ctx.spark
    writer.app_id = checkpoint_app_id(checkpoint, {"source": t.bronze.display, "path": t.bronze.path})
    # Delta's source takes both limits (whichever is reached first; the byte limit is soft).
    reader = spark.readStream.format("delta").option(
        "maxBytesPerTrigger", micro_batch_bytes(ctx.settings.transform.max_bytes_per_trigger, ctx.target)
    )
    if p.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", p.max_files_per_trigger)
    stream = reader.load(t.bronze.path)
    query = (
        stream.writeStream.foreachBatch(stoppable(writer))
        .option("checkpointLocation", str(checkpoint / "offsets"))
        .queryName(f"transform-{ctx.run_id}")
    )
    from lakectl.governance.autoregister import after_first_batch

    run_query(
        query,
        continuous=p.continuous,
        interval=p.trigger_interval or ctx.settings.ingest.trigger_interval,
        on_progress=after_first_batch(ctx),
        reports=writer.reports.lookup(spark),  # each batch counted once (Spark counts it once per table written)
    )


# --- result and plan -----------------------------------------------------------------------------------


def _result(
    ctx: JobContext, p: TransformParams, t: TransformTables, rules: list[Rule], mode: str, drift: silver.Drift, tally: Tally
) -> Result:
    written, quarantined = tally.inserted, tally.quarantined
    rule_metrics = [m.to_dict() for m in tally.rules.values()]
    warnings = [
        f"rule {m['rule']} ({m['action']}) failed on {m['rows_failed']} of {m['rows_checked']} rows"
        for m in rule_metrics
        if m["rows_failed"] and m["action"] == "warn"
    ]
    if drift:
        warnings.append(f"schema drift in {t.bronze.display} handled by mode {mode}: {drift.describe()}")
    return Result(
        job="transform",
        rows_read=tally.rows_read,
        rows_written=written,
        rows_quarantined=quarantined,
        tables_read=[t.bronze.display],
        tables_written=[  # the tables that got rows: a run with nothing to do lists none
            h.display
            for h, n in (
                (t.events, written),
                (t.reviews, tally.reviews_inserted),
                (t.quarantine, quarantined),
                (t.customers, tally.dims_upserted.get("customers", 0)),
                (t.products, tally.dims_upserted.get("products", 0)),
                (t.dq, tally.batches),
            )
            if n
        ],
        warnings=warnings,
        metrics={
            "mode": "batch" if p.batch else ("continuous" if p.continuous else "availableNow"),
            "batches": tally.batches,
            "duplicates_in_batch": tally.duplicates_in_batch,
            # valid rows whose event_id silver already held (cross-run duplicates / replays)
            "duplicates_existing": tally.to_silver - written,
            "already_quarantined": tally.to_quarantine - quarantined,
            "rows_dropped": tally.dropped,
            "dropped_by_rule": tally.dropped_by_rule,
            "warned_by_rule": tally.warned_by_rule,
            "reviews_written": tally.reviews_inserted,
            "customers_upserted": tally.dims_upserted.get("customers", 0),
            "products_upserted": tally.dims_upserted.get("products", 0),
            # dimension keys with differing rows in one landing file, resolved by transform.dimension_conflicts
            "dimension_conflicts": {name: tally.dims_conflicts.get(name, 0) for name in ("customers", "products")},
            "schema_drift": {"mode": mode, **drift.to_dict()},
            "rules": rule_metrics,
        },
    )


def plan(
    ctx: JobContext,
    p: TransformParams,
    t: TransformTables,
    rules: list[Rule],
    mode: str,
    drift: silver.Drift,
    checkpoint: Path,
    pending: int | None,
) -> Result:
    """What a run would do, from schemas and the Delta log only (no data is read)."""
    landing = ctx.settings.storage.landing_dir
    details = [{"rule": r.name, "table": r.table, "action": r.action, "expr": r.expr} for r in rules]
    warnings = []
    if drift:
        verdict = "the run would fail" if mode == "fail" else f"handled by mode {mode}"
        warnings.append(f"schema drift in {t.bronze.display}: {drift.describe()} ({verdict})")
    return Result(
        job="transform",
        dry_run=True,
        tables_read=[t.bronze.display, str(landing / "customers"), str(landing / "products")],
        tables_written=[h.display for h in t.written()],
        warnings=warnings,
        details=details,
        metrics={
            "mode": "batch" if p.batch else ("continuous" if p.continuous else "availableNow"),
            "checkpoint": str(checkpoint),
            "schema_drift": {"mode": mode, **drift.to_dict()},
            "rules": len(rules),
            "pending_bronze_rows": pending,
            "would_write": {
                t.events.display: "MERGE on event_id, insert new event_ids only",
                t.reviews.display: "MERGE on event_id, review events with label",
                t.quarantine.display: "MERGE on event_id, rows failing a quarantine rule",
                t.customers.display: "MERGE on customer_id from landing/customers",
                t.products.display: "MERGE on product_id from landing/products",
                t.dq.display: "append one row per rule per micro-batch (exactly once)",
            },
        },
    )
