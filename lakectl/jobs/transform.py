"""transform: bronze.events -> silver.events (+ silver.reviews, silver.quarantine, ops.dq_metrics).

Typed, cleaned, checked against the configured expectations, deduplicated on event_id (within a batch,
and across runs by an insert-only MERGE) and enriched with the customers and products dimensions.
Streams from bronze with its own checkpoint (availableNow by default), or reads all of bronze (--batch).
Every write is replay-safe: the MERGEs ignore event_ids they already hold, and ops.dq_metrics appends
carry txnAppId/txnVersion. An expectation with action `fail` stops the run before anything is committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.pipeline.silver import cleaning as silver
from lakectl.engine.context import JobContext
from lakectl.lake import delta
from lakectl.lake.delta import append_once, is_delta_table, table_version
from lakectl.core.errors import JobFailed, LakectlError, TableNotFound
from lakectl.core.faults import kill_point
from lakectl.pipeline.silver.expectations import (FAILED, OUTCOME, Rule, RuleMetric, drop_check_columns, merge_metrics, metrics_from,
                             rule_aggregates, rules_for, validate, with_checks)
from lakectl.core.results import Result
from lakectl.config import Settings, TableHandle
from lakectl.core.sql import quote_ident
from lakectl.lake.batch_size import micro_batch_bytes
from lakectl.lake.checkpoints import checkpoint_app_id, checkpoint_lock
from lakectl.lake.server_batches import BatchFigures, carry_error, recover_error
from lakectl.lake.streaming import run_query, stoppable
from lakectl.core.typed import parse_params
from lakectl.jobs.params import TransformParams

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SILVER_TABLE = "silver.events"
DQ_SCHEMA = "run_id string, table string, rule string, action string, rows_checked long, rows_passed long, rows_failed long"
DQ_SCHEMA_FULL = DQ_SCHEMA + ", recorded_at timestamp"
_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
_RECORD = "_quarantine_record"


@dataclass(frozen=True)
class Tables:
    bronze: TableHandle
    events: TableHandle
    reviews: TableHandle
    quarantine: TableHandle
    customers: TableHandle
    products: TableHandle
    dq: TableHandle

    @classmethod
    def of(cls, s: Settings) -> "Tables":
        return cls(*(s.table(k) for k in ("bronze.events", "silver.events", "silver.reviews", "silver.quarantine",
                                           "silver.customers", "silver.products", "ops.dq_metrics")))

    def written(self) -> list[TableHandle]:
        return [self.events, self.reviews, self.quarantine, self.customers, self.products, self.dq]


@dataclass
class Tally:
    """What the micro-batches saw (kept on the driver; the written figures come from the Delta log)."""

    batches: int = 0
    rows_read: int = 0
    duplicates_in_batch: int = 0
    to_silver: int = 0
    to_quarantine: int = 0
    dropped: int = 0
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    warned_by_rule: dict[str, int] = field(default_factory=dict)
    rules: dict[tuple[str, str], RuleMetric] = field(default_factory=dict)
    inserted: int = 0
    reviews_inserted: int = 0
    quarantined: int = 0
    dims_upserted: dict[str, int] = field(default_factory=dict)
    failure: LakectlError | None = None
    dims_loaded: bool = False

    def add(self, other: "Tally") -> None:
        """Fold one micro-batch's figures into the run's."""
        for name in ("batches", "rows_read", "duplicates_in_batch", "to_silver", "to_quarantine", "dropped",
                     "inserted", "reviews_inserted", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.dropped_by_rule, other.dropped_by_rule), (self.warned_by_rule, other.warned_by_rule),
                             (self.dims_upserted, other.dims_upserted)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        merge_metrics(self.rules, other.rules.values())
        self.dims_loaded = self.dims_loaded or other.dims_loaded

    def to_json(self) -> str:
        return json.dumps({
            **{k: getattr(self, k) for k in ("batches", "rows_read", "duplicates_in_batch", "to_silver", "to_quarantine",
                                             "dropped", "inserted", "reviews_inserted", "quarantined", "dims_loaded",
                                             "dropped_by_rule", "warned_by_rule", "dims_upserted")},
            "rules": [m.to_dict() for m in self.rules.values()],
        })

    @classmethod
    def from_json(cls, text: str) -> "Tally":
        data = json.loads(text)
        rules = data.pop("rules", [])
        tally = cls(**data)
        merge_metrics(tally.rules, [RuleMetric(**m) for m in rules])
        return tally


def checkpoint_dir(ctx: JobContext, p: TransformParams) -> Path:
    return Path(p.checkpoint) if p.checkpoint else ctx.settings.storage.checkpoints_dir / "transform"


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, TransformParams)
    if p.dry_run:
        return _run(ctx, p)
    # One run per checkpoint, taken before Spark starts so that a second operator is refused at once.
    with checkpoint_lock(checkpoint_dir(ctx, p), "wait for the other `lakectl transform` to finish or stop it"):
        return _run(ctx, p)


def _run(ctx: JobContext, p: TransformParams) -> Result:
    t = Tables.of(ctx.settings)
    rules = rules_for(ctx.settings.transform.expectations, SILVER_TABLE)
    mode = p.schema_drift or ctx.settings.transform.schema_drift
    checkpoint = checkpoint_dir(ctx, p)
    spark = ctx.spark
    if not is_delta_table(spark, t.bronze.path):
        raise TableNotFound(f"{t.bronze.display} does not exist at {t.bronze.path}", "run `lakectl ingest` first")
    bronze_schema = spark.read.format("delta").load(t.bronze.path).schema
    drift = silver.detect_drift(bronze_schema)
    if p.dry_run:
        return plan(ctx, p, t, rules, mode, drift, checkpoint)
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
    figures = BatchFigures(ctx, "transform") if ctx.engine.capabilities.batches_on_server and not p.batch else None
    writer.figures = figures
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
        if figures is not None:
            for batch_json in figures.collect(spark):
                tally.add(Tally.from_json(batch_json))
        if tally.failure is None and not tally.dims_loaded:
            dims.commit(tally)
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


def _stream(ctx: JobContext, p: TransformParams, t: Tables, writer: "BatchWriter", checkpoint: Path) -> None:
    spark = ctx.spark
    writer.app_id = checkpoint_app_id(checkpoint, {"source": t.bronze.display, "path": t.bronze.path})
    # Delta's source takes both limits (whichever is reached first; the byte limit is soft).
    reader = spark.readStream.format("delta").option(
        "maxBytesPerTrigger", micro_batch_bytes(ctx.settings.transform.max_bytes_per_trigger, ctx.target))
    if p.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", p.max_files_per_trigger)
    stream = reader.load(t.bronze.path)
    query = (
        stream.writeStream.foreachBatch(stoppable(writer)).option("checkpointLocation", str(checkpoint / "offsets"))
        .queryName(f"transform-{ctx.run_id}")
    )
    from lakectl.governance.autoregister import after_first_batch

    run_query(query, continuous=p.continuous, interval=p.trigger_interval or ctx.settings.ingest.trigger_interval,
              on_progress=after_first_batch(ctx))


def prepare(bronze: "DataFrame", drift: silver.Drift, mode: str, dims: "Dimensions", run_id: str) -> "DataFrame":
    """Bronze rows -> silver-shaped rows (still with `raw`, before checks and dedup)."""
    conformed = silver.conform_bronze(bronze, drift, mode)
    enriched = silver.enrich(silver.clean_events(conformed), dims.customers, dims.products)
    return silver.to_silver(enriched, run_id)


class BatchWriter:
    """foreachBatch body: check all rules in one pass, then MERGE good rows, quarantine bad ones, record metrics."""

    def __init__(self, ctx: JobContext, t: Tables, rules: list[Rule], drift: silver.Drift, mode: str,
                 dims: "Dimensions", tally: Tally) -> None:
        self.ctx, self.t, self.rules, self.drift, self.mode, self.dims, self.tally = ctx, t, rules, drift, mode, dims, tally
        self.app_id = ""
        self.figures: BatchFigures | None = None  # set when the batches run on a Spark Connect server

    def __call__(self, batch: "DataFrame", batch_id: int) -> None:
        try:
            found = Tally(dims_loaded=self.tally.dims_loaded)
            self._write(batch, batch_id, found)
            if self.figures is not None:
                self.figures.record(batch.sparkSession, batch_id, found.to_json())
            self.tally.add(found)
        except LakectlError as exc:
            self.tally.failure = exc  # re-raised as-is by run(), not as a streaming trace
            if self.figures is not None:
                raise carry_error(exc) from exc  # the client sees only the server's message
            raise

    def _write(self, batch: "DataFrame", batch_id: int, tally: Tally) -> None:
        from pyspark.sql import functions as F

        spark = batch.sparkSession
        rows = prepare(batch, self.drift, self.mode, self.dims, self.ctx.run_id)
        checked = check_and_dedup(rows, self.rules).persist()
        try:
            unique = ~F.col("_dup")
            outcome = F.col(OUTCOME)

            def count(cond):  # noqa: ANN001, ANN202
                return F.sum(F.when(cond, 1).otherwise(0))

            drop_rules = [(i, r) for i, r in enumerate(self.rules) if r.action in ("drop", "warn")]
            aggs = [
                F.count(F.lit(1)).alias("rows"), count(F.col("_dup")).alias("dups"),
                *[count(unique & (outcome == o)).alias(o) for o in ("ok", "quarantine", "drop", "fail")],
                count(unique & (outcome == "ok") & (F.col("event_type") == "review")).alias("ok_reviews"),
                *rule_aggregates(self.rules, unique),
                *[count(unique & (outcome == ("drop" if r.action == "drop" else "ok")) & ~F.col(f"_dq_{i}")).alias(f"_out_{i}")
                  for i, r in drop_rules],
            ]
            stats = checked.agg(*aggs).first()  # the one pass over the batch
            checked_rows = int(stats["rows"]) - int(stats["dups"] or 0)
            metrics = metrics_from(stats, self.rules, checked_rows)
            if int(stats["fail"] or 0):
                failing = [f"{m.rule} ({m.rows_failed} rows)" for m in metrics if m.action == "fail" and m.rows_failed]
                raise JobFailed(
                    f"expectation failed on {self.t.events.display}: {', '.join(failing)}; nothing was committed",
                    "fix the data in bronze or change the rule's action in transform.expectations",
                )
            tally.batches += 1
            tally.rows_read += int(stats["rows"])
            tally.duplicates_in_batch += int(stats["dups"] or 0)
            tally.to_silver += int(stats["ok"] or 0)
            tally.to_quarantine += int(stats["quarantine"] or 0)
            tally.dropped += int(stats["drop"] or 0)
            for i, r in drop_rules:
                bucket = tally.dropped_by_rule if r.action == "drop" else tally.warned_by_rule
                bucket[r.name] = bucket.get(r.name, 0) + int(stats[f"_out_{i}"] or 0)
            merge_metrics(tally.rules, metrics)

            good = good_rows(checked, self.rules)
            # A MERGE costs seconds even when it has nothing to insert: skip the empty ones.
            if stats["ok"]:
                tally.inserted += merge_insert_only(spark, self.t.events, good, "event_id", change_feed=True)
            kill_point("transform.after_silver_merge")
            if stats["ok_reviews"]:
                tally.reviews_inserted += merge_insert_only(spark, self.t.reviews, silver.reviews(good), "event_id")
            if stats["quarantine"]:
                tally.quarantined += merge_insert_only(spark, self.t.quarantine, quarantine_rows(checked, self.ctx.run_id), "event_id")
            dq = dq_frame(spark, [(self.ctx.run_id, m.table, m.rule, m.action, m.rows_checked, m.rows_passed, m.rows_failed)
                                  for m in metrics])
            if metrics:
                append_once(dq, self.t.dq.path, app_id=self.app_id, version=batch_id, run_id=self.ctx.run_id)
            if not tally.dims_loaded:
                self.dims.commit(tally)
            kill_point("transform.before_checkpoint_commit")  # every table written, the batch not yet marked done
        finally:
            checked.unpersist()


def check_and_dedup(rows: "DataFrame", rules: list[Rule]) -> "DataFrame":
    """Silver-shaped rows with every rule's check, the outcome, the quarantine record and `_dup`
    (a later copy of an event_id within the batch)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    record = F.to_json(F.struct(*[F.col(quote_ident(c)) for c in rows.columns]))
    # The quarantine record is built before `raw` is dropped, and only for rows that need it: the
    # raw payload is most of a row's bytes, and the dedup shuffle and the cache need none of it.
    checked = with_checks(rows, rules)
    checked = checked.select("*", F.when(F.col(OUTCOME) == "quarantine", record).alias(_RECORD),
                             F.xxhash64("raw").alias("_raw_hash")).drop("raw")
    first = Window.partitionBy("event_id").orderBy(F.col("ingest_time").asc_nulls_last(), F.col("_raw_hash"))
    return checked.withColumn("_dup", F.col("event_id").isNotNull() & (F.row_number().over(first) > 1)).drop("_raw_hash")


def good_rows(checked: "DataFrame", rules: list[Rule]) -> "DataFrame":
    from pyspark.sql import functions as F

    ok = ~F.col("_dup") & (F.col(OUTCOME) == "ok")
    return drop_check_columns(checked.where(ok), rules).drop("_dup", _RECORD)


def quarantine_rows(checked: "DataFrame", run_id: str) -> "DataFrame":
    from pyspark.sql import functions as F

    return checked.where(~F.col("_dup") & (F.col(OUTCOME) == "quarantine")).select(
        F.col(_RECORD).alias("record"), F.col(FAILED).alias("rules"), "event_id", F.lit(run_id).alias("run_id"),
        F.current_timestamp().alias("quarantined_at"),
    )


def dq_frame(spark: "SparkSession", rows: list[tuple]) -> "DataFrame":
    from pyspark.sql import functions as F

    return spark.createDataFrame(rows, DQ_SCHEMA).withColumn("recorded_at", F.current_timestamp())


def create_tables(spark: "SparkSession", t: Tables, rules: list[Rule], shaped: "DataFrame", dims: "Dimensions",
                  run_id: str) -> None:
    """Every table transform writes, created with its schema and its policy's properties before the
    first write (silver.events also with the change data feed aggregate reads). The schemas come from
    the batch functions applied to an empty frame, so they are the ones the MERGEs will write."""
    checked = check_and_dedup(shaped, rules)
    good = good_rows(checked, rules)
    schemas = [
        (t.events, lambda: good.schema, True), (t.reviews, lambda: silver.reviews(good).schema, False),
        (t.quarantine, lambda: quarantine_rows(checked, run_id).schema, False), (t.dq, lambda: DQ_SCHEMA_FULL, False),
        (t.customers, lambda: dims.customers.schema, False), (t.products, lambda: dims.products.schema, False),
    ]
    for handle, schema, change_feed in schemas:
        if not delta.exists(spark, handle):  # a local table that exists costs no Spark call, not even analysis
            delta.ensure_table(spark, handle, schema(), props=delta.table_properties(handle, change_feed=change_feed))


def merge_insert_only(spark: "SparkSession", table: TableHandle, source: "DataFrame", key: str, *, change_feed: bool = False) -> int:
    """Insert the rows whose `key` the table does not hold yet (creating the table on first use) and
    return how many were inserted. Replaying the same rows inserts nothing: the write is idempotent."""
    delta.ensure_table(spark, table, source.schema, props=delta.table_properties(table, change_feed=change_feed))
    return delta.merge_insert_only(spark, table.ref, source, key)


# --- dimensions --------------------------------------------------------------------------------------

class Dimensions:
    """customers and products: the landing JSON (cleaned) over what silver already holds. Used for
    enrichment from the start; committed to silver (MERGE, idempotent) once the first batch passed."""

    KEYS = {"customers": "customer_id", "products": "product_id"}

    def __init__(self, spark: "SparkSession", t: Tables, landing: dict[str, "DataFrame | None"], current: dict[str, "DataFrame"],
                 fingerprints: dict[str, list], state_file: Path) -> None:
        self.spark, self.t, self.landing, self.current = spark, t, landing, current
        self.fingerprints, self.state_file = fingerprints, state_file

    @classmethod
    def load(cls, spark: "SparkSession", settings: Settings, t: Tables) -> "Dimensions":
        landing_dir = settings.storage.landing_dir
        landing: dict[str, DataFrame | None] = {}
        current: dict[str, DataFrame] = {}
        fingerprints: dict[str, list] = {}
        for name, types, clean, handle in (("customers", silver.CUSTOMER_TYPES, silver.clean_customers, t.customers),
                                           ("products", silver.PRODUCT_TYPES, silver.clean_products, t.products)):
            ddl = ", ".join(f"{quote_ident(c)} string" for c in types)
            folder = landing_dir / name
            src = None
            files = sorted(folder.glob("*.json*")) if folder.is_dir() else []
            fingerprints[name] = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]
            if files:
                src = clean(spark.read.schema(ddl).option("pathGlobFilter", "*.json*").json(str(folder))).persist()
            landing[name] = src
            key = cls.KEYS[name]
            schema = ", ".join(f"{quote_ident(c)} {k}" for c, k in types.items())
            existing = spark.read.format("delta").load(handle.path) if is_delta_table(spark, handle.path) else spark.createDataFrame([], schema)
            existing = existing.select(*types)
            current[name] = existing if src is None else src.unionByName(existing.join(src.select(key), key, "left_anti"))
        state_file = settings.storage.checkpoints_dir / "transform-dimensions.json"
        return cls(spark, t, landing, current, fingerprints, state_file)

    @property
    def customers(self) -> "DataFrame":
        return self.current["customers"]

    @property
    def products(self) -> "DataFrame":
        return self.current["products"]

    def commit(self, tally: Tally) -> None:
        """MERGE the landing dimensions into silver: insert new keys, update changed rows, leave equal ones."""
        tally.dims_loaded = True
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            state = {}
        for name, handle in (("customers", self.t.customers), ("products", self.t.products)):
            src = self.landing.get(name)
            if src is None:
                continue
            done_before = state.get(name, {})
            if done_before.get("files") == self.fingerprints[name] and done_before.get("version") == table_version(self.spark, handle.path):
                continue  # the same landing files were merged into this very table version: nothing can change
            if not delta.exists(self.spark, handle):
                delta.ensure_table(self.spark, handle, src.schema)
            tally.dims_upserted[name] = delta.merge_upsert(self.spark, handle.ref, src, self.KEYS[name])
            state[name] = {"files": self.fingerprints[name], "version": table_version(self.spark, handle.path)}
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(state))

    def close(self) -> None:
        for src in self.landing.values():
            if src is not None:
                src.unpersist()


# --- result and plan -----------------------------------------------------------------------------------

def _result(ctx: JobContext, p: TransformParams, t: Tables, rules: list[Rule], mode: str, drift: silver.Drift,
            tally: Tally) -> Result:
    written, quarantined = tally.inserted, tally.quarantined
    rule_metrics = [m.to_dict() for m in tally.rules.values()]
    warnings = [f"rule {m['rule']} ({m['action']}) failed on {m['rows_failed']} of {m['rows_checked']} rows"
                for m in rule_metrics if m["rows_failed"] and m["action"] == "warn"]
    if drift:
        warnings.append(f"schema drift in {t.bronze.display} handled by mode {mode}: {drift.describe()}")
    return Result(
        job="transform",
        rows_read=tally.rows_read,
        rows_written=written,
        rows_quarantined=quarantined,
        tables_read=[t.bronze.display],
        tables_written=[h.display for h in t.written()],
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
            "schema_drift": {"mode": mode, **drift.to_dict()},
            "rules": rule_metrics,
        },
    )


def plan(ctx: JobContext, p: TransformParams, t: Tables, rules: list[Rule], mode: str, drift: silver.Drift, checkpoint: Path) -> Result:
    """What a run would do, from schemas and the Delta log only (no data is read)."""
    spark = ctx.spark
    landing = ctx.settings.storage.landing_dir
    pending = _pending_rows(spark, t.bronze.path, None if p.batch else checkpoint / "offsets")
    details = [{"rule": r.name, "table": r.table, "action": r.action, "expr": r.expr} for r in rules]
    warnings = []
    if drift:
        verdict = "the run would fail" if mode == "fail" else f"handled by mode {mode}"
        warnings.append(f"schema drift in {t.bronze.display}: {drift.describe()} ({verdict})")
    return Result(
        job="transform", dry_run=True,
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


def _pending_rows(spark: "SparkSession", bronze_path: str, offsets: Path | None) -> int | None:
    """Bronze rows committed after the checkpoint's last processed version (Delta log figures);
    all of bronze for a batch run. None when the checkpoint state cannot be read."""
    from pyspark.sql import functions as F

    start = 0
    if offsets is not None:
        files = sorted((offsets / "offsets").glob("[0-9]*"), key=lambda f: int(f.name)) if (offsets / "offsets").is_dir() else []
        if files:
            try:
                last = json.loads(files[-1].read_text().splitlines()[-1])
                start = int(last["reservoirVersion"]) + (0 if int(last.get("index", -1)) == -1 else 1)
            except (ValueError, KeyError, IndexError):
                return None
    commits = delta.history(spark, bronze_path)
    if commits is None:
        return 0
    row = (
        commits.where((F.col("version") >= start) & F.col("operation").isin("WRITE", "STREAMING UPDATE", "CREATE TABLE AS SELECT"))
        .select(F.sum(F.col("operationMetrics")["numOutputRows"].cast("long")).alias("n")).first()
    )
    return int(row["n"] or 0)
