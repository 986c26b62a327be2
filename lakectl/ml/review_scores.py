"""silver.review_scores: which reviews still need a score from a model version, the scored rows, and the one
MERGE on (event_id, model_version) that makes scoring exactly once (batch, stream or a served model alike)."""

from __future__ import annotations

from typing import Any

SOURCE, TARGET = "silver.reviews", "silver.review_scores"
SCORE_COLUMNS = ("event_id", "score", "label", "model_name", "model_version", "model_alias", "scored_at", "mlflow_run_id", "run_id")


def merge_scored(spark, target, scored, rescore: bool) -> tuple[int, int]:  # noqa: ANN001
    """MERGE the scored rows; (rows written, rows scored). The scoring runs once, inside the MERGE:
    a cached frame counted first was scored a second time by Delta's MERGE (it materialises its source
    itself), doubling the encoder's work; the rows scored come from the commit's numSourceRows."""
    from lakectl.lake.delta import commits_after, table_version

    before = table_version(spark, target.path)
    written = merge(spark, target, scored, rescore)
    merges = [c for c in commits_after(spark, target.path, before) if c.get("operation") == "MERGE"]
    source_rows = int((merges[-1].get("operationMetrics") or {}).get("numSourceRows") or written) if merges else written
    return written, source_rows


def pending(spark, source_path: str, version: int, target_path: str | None, model_version: str, rescore: bool):  # noqa: ANN001, ANN202
    """Reviews with text and no score from `model_version` yet (all reviews with text when rescoring)."""
    from pyspark.sql import functions as F

    reviews = (
        spark.read.format("delta")
        .option("versionAsOf", version)
        .load(source_path)
        .where(F.col("review_text").isNotNull())
        .select("event_id", "review_text")
    )
    if target_path is None or rescore:
        return reviews
    done = spark.read.format("delta").load(target_path).where(F.col("model_version") == model_version).select("event_id")
    return reviews.join(done, "event_id", "left_anti")


def pending_from_logs(source_path: str, target_path: str, model_version: str, rescore: bool) -> int | None:
    """How many reviews `pending` would hand to the model, read from the two local tables with delta-rs (its
    DataFusion reader applies deletion vectors); no Spark. None when a table is remote or delta-rs cannot read it."""
    if "://" in source_path or "://" in target_path:
        return None
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable, QueryBuilder

    def read(path: str, statement: str) -> pa.Table:
        return pa.RecordBatchReader.from_stream(QueryBuilder().register("t", DeltaTable(path)).execute(statement)).read_all()

    try:
        reviews = read(source_path, "SELECT event_id FROM t WHERE review_text IS NOT NULL").column("event_id").cast(pa.string())
        if rescore or not (Path(target_path) / "_delta_log").is_dir():
            return len(reviews)
        scores = read(target_path, "SELECT event_id, model_version FROM t")
        ids, versions = scores.column("event_id").cast(pa.string()), scores.column("model_version").cast(pa.string())
        done = pc.filter(ids, pc.equal(versions, pa.scalar(model_version, pa.string())))
        return len(reviews) - int(pc.sum(pc.is_in(reviews, value_set=done.combine_chunks())).as_py() or 0)
    except Exception:  # a table feature delta-rs cannot read: Spark decides
        return None


def scored_rows(todo, ref, run_id: str, model=None):  # noqa: ANN001, ANN202
    from pyspark.sql import functions as F

    from lakectl.ml import scoring

    model = model or scoring.load(ref.uri)  # once per process, whatever the number of batches
    out = scoring.predict(model, todo)
    return out.select(
        "event_id",
        F.col("score").cast("double").alias("score"),
        F.col("predicted").alias("label"),
        F.lit(ref.name).alias("model_name"),
        F.lit(ref.version).alias("model_version"),
        F.lit(ref.alias).cast("string").alias("model_alias"),
        F.current_timestamp().alias("scored_at"),
        F.lit(ref.run_id).cast("string").alias("mlflow_run_id"),
        F.lit(run_id).alias("run_id"),
    )


def merge(spark, target, scored, rescore: bool) -> int:  # noqa: ANN001
    """One MERGE on (event_id, model_version), through the SQL helper layer so it runs over Spark
    Connect too; created first with nullable columns (literals would otherwise be NOT NULL)."""
    from pyspark.sql.types import StructType

    from lakectl.lake.delta import ensure_table, merge_insert_only, merge_upsert

    ensure_table(spark, target, StructType([f.__class__(f.name, f.dataType, True) for f in scored.schema.fields]))
    keys = ["event_id", "model_version"]
    return merge_upsert(spark, target.ref, scored, keys) if rescore else merge_insert_only(spark, target.ref, scored, keys)


def run_metrics(ref, source_version: int, rescore: bool) -> dict[str, Any]:  # noqa: ANN001
    """The model and input a score run names in its result: every way of scoring reports these."""
    return {
        "model_name": ref.name,
        "model_version": ref.version,
        "model_alias": ref.alias,
        "model_uri": ref.uri,
        "source_version": source_version,
        "rescore": rescore,
    }
