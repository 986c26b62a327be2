"""transform's foreachBatch body and the tables it writes.

One pass checks every rule; then good rows are MERGEd (insert-only on event_id) into silver.events and
silver.reviews, failing rows into silver.quarantine, and the per-rule figures appended to ops.dq_metrics
exactly once (txnAppId/txnVersion). Replaying a batch writes nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakectl.config import TableHandle
from lakectl.core.errors import JobFailed, LakectlError
from lakectl.core.faults import kill_point
from lakectl.engine.context import JobContext
from lakectl.lake import delta
from lakectl.lake.batch_report import BatchReport, BatchReports
from lakectl.lake.delta import append_once
from lakectl.lake.server_batches import carry_error
from lakectl.pipeline.silver import cleaning as silver
from lakectl.pipeline.silver.batch import DQ_SCHEMA_FULL, check_and_dedup, dq_frame, good_rows, prepare, quarantine_rows
from lakectl.pipeline.silver.dimensions import Dimensions
from lakectl.pipeline.silver.expectations import OUTCOME, Rule, merge_metrics, metrics_from, rule_aggregates
from lakectl.pipeline.silver.tables import TransformTables
from lakectl.pipeline.silver.tally import Tally

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class BatchWriter:
    """foreachBatch body: check all rules in one pass, then MERGE good rows, quarantine bad ones, record metrics."""

    def __init__(
        self, ctx: JobContext, t: TransformTables, rules: list[Rule], drift: silver.Drift, mode: str, dims: Dimensions, tally: Tally
    ) -> None:
        self.ctx, self.t, self.rules, self.drift, self.mode, self.dims, self.tally = ctx, t, rules, drift, mode, dims, tally
        self.app_id = ""
        # What each batch committed (its report and its Tally): kept here, or in ops.batch_figures when the
        # batches run on a Spark Connect server.
        self.reports = BatchReports()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        try:
            found = Tally(dims_loaded=self.tally.dims_loaded)
            report = self._write(batch, batch_id, found)
            self.reports.record(batch.sparkSession, batch_id, report, found.to_json())
            self.tally.add(found)
        except LakectlError as exc:
            self.tally.failure = exc  # re-raised as-is by the job, not as a streaming trace
            if self.reports.figures is not None:
                raise carry_error(exc) from exc  # the client sees only the server's message
            raise

    def _write(self, batch: DataFrame, batch_id: int, tally: Tally) -> BatchReport:
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
                F.count(F.lit(1)).alias("rows"),
                count(F.col("_dup")).alias("dups"),
                *[count(unique & (outcome == o)).alias(o) for o in ("ok", "quarantine", "drop", "fail")],
                count(unique & (outcome == "ok") & (F.col("event_type") == "review")).alias("ok_reviews"),
                *rule_aggregates(self.rules, unique),
                *[
                    count(unique & (outcome == ("drop" if r.action == "drop" else "ok")) & ~F.col(f"_dq_{i}")).alias(f"_out_{i}")
                    for i, r in drop_rules
                ],
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
            written = {}
            # A MERGE costs seconds even when it has nothing to insert: skip the empty ones.
            if stats["ok"]:
                written[self.t.events.display] = merge_insert_only(spark, self.t.events, good, "event_id", change_feed=True)
                tally.inserted += written[self.t.events.display]
            kill_point("transform.after_silver_merge")
            if stats["ok_reviews"]:
                written[self.t.reviews.display] = merge_insert_only(spark, self.t.reviews, silver.reviews(good), "event_id")
                tally.reviews_inserted += written[self.t.reviews.display]
            if stats["quarantine"]:
                quarantined = merge_insert_only(spark, self.t.quarantine, quarantine_rows(checked, self.ctx.run_id), "event_id")
                written[self.t.quarantine.display] = quarantined
                tally.quarantined += quarantined
            if not tally.dims_loaded:  # the dimensions' conflicts join this batch's DQ rows
                self.dims.commit(tally)
                dims_metrics = self.dims.conflict_metrics(tally)
                merge_metrics(tally.rules, dims_metrics)
                metrics = [*metrics, *dims_metrics]
            dq = dq_frame(
                spark, [(self.ctx.run_id, m.table, m.rule, m.action, m.rows_checked, m.rows_passed, m.rows_failed) for m in metrics]
            )
            if metrics:
                append_once(dq, self.t.dq.path, app_id=self.app_id, version=batch_id, run_id=self.ctx.run_id)
            kill_point("transform.before_checkpoint_commit")  # every table written, the batch not yet marked done
            return BatchReport(int(stats["rows"]), written)
        finally:
            checked.unpersist()


def create_tables(spark: SparkSession, t: TransformTables, rules: list[Rule], shaped: DataFrame, dims: Dimensions, run_id: str) -> None:
    """Every table transform writes, created with its schema and its policy's properties before the
    first write (silver.events also with the change data feed aggregate reads). The schemas come from
    the batch functions applied to an empty frame, so they are the ones the MERGEs will write."""
    checked = check_and_dedup(shaped, rules)
    good = good_rows(checked, rules)
    schemas = [
        (t.events, lambda: good.schema, True),
        (t.reviews, lambda: silver.reviews(good).schema, False),
        (t.quarantine, lambda: quarantine_rows(checked, run_id).schema, False),
        (t.dq, lambda: DQ_SCHEMA_FULL, False),
        (t.customers, lambda: dims.customers.schema, False),
        (t.products, lambda: dims.products.schema, False),
    ]
    for handle, schema, change_feed in schemas:
        if not delta.exists(spark, handle):  # a local table that exists costs no Spark call, not even analysis
            delta.ensure_table(spark, handle, schema(), props=delta.table_properties(handle, change_feed=change_feed))


def merge_insert_only(spark: SparkSession, table: TableHandle, source: DataFrame, key: str, *, change_feed: bool = False) -> int:
    """Insert the rows whose `key` the table does not hold yet (creating the table on first use) and
    return how many were inserted. Replaying the same rows inserts nothing: the write is idempotent."""
    delta.ensure_table(spark, table, source.schema, props=delta.table_properties(table, change_feed=change_feed))
    return delta.merge_insert_only(spark, table.ref, source, key)
