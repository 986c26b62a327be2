"""`monitor models` end to end: a real train (Spark MLlib, MLflow sqlite) logs the score histogram of its test
split, a real score writes silver.review_scores, and the monitor's figures (DuckDB and Spark engines alike)
equal a hand count over the rows Spark reads back."""

from __future__ import annotations

import json
import math
import random
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

FAST_ML = {"reg_params": [0.1], "num_features": 2048, "min_labelled_rows": 40}
_GOOD = ("great", "excellent", "love", "perfect", "wonderful", "happy", "recommend", "best")
_BAD = ("terrible", "awful", "broken", "waste", "worst", "disappointed", "poor", "useless")
_FILLER = ("the", "phone", "service", "food", "it", "was", "really", "this", "and", "very")


def _reviews(n: int = 180) -> list[tuple[str, str, int]]:
    """(event_id, text, rating): mostly 1s and 5s, every tenth a 3 (no label), a few noisy texts."""
    rng = random.Random(3)
    rows = []
    for i in range(n):
        rating = 3 if i % 10 == 9 else (5 if i % 2 else 1)
        pool = _GOOD if (rating == 5) != (i % 13 == 0) else _BAD  # every 13th text contradicts its rating
        words = [rng.choice(_FILLER) for _ in range(5)] + [rng.choice(pool) for _ in range(2)]
        rng.shuffle(words)
        rows.append((f"r{i:04d}", " ".join(words), rating))
    return rows


def test_train_logs_histogram_and_monitor_models_matches_a_hand_count(spark, tmp_path):
    from pyspark.sql import functions as F

    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job
    from lakectl.ml.store import connect, store_of

    settings = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}, "ml": {**FAST_ML, "sla": {"min_rows": 10}}}, "<test>")
    ctx = JobContext(settings=settings, _spark=spark)
    df = spark.createDataFrame(_reviews(), "event_id string, review_text string, rating int")
    df = df.withColumn("label", F.when(F.col("rating") >= 4, 1).when(F.col("rating") <= 2, 0).cast("int"))
    df.write.format("delta").save(settings.table("silver.reviews").path)

    trained = run_job(ctx, "train", {})
    client = connect(store_of(settings), create=False)
    with tempfile.TemporaryDirectory() as tmp:
        ref = json.loads(Path(client.download_artifacts(trained.metrics["mlflow_run_id"], "score_histogram_test.json", tmp)).read_text())
    assert len(ref["counts"]) == 10 and ref["rows"] == sum(ref["counts"]) == sum(trained.metrics["rows"]["test"].values())
    assert run_job(ctx, "score", {}).rows_written == 180

    duck = run_job(ctx, "monitor", {"action": "models", "days": 1})
    on_spark = run_job(ctx, "monitor", {"action": "models", "days": 1, "engine": "spark"})
    assert (duck.metrics["engine"], on_spark.metrics["engine"]) == ("duckdb", "spark")
    (v,) = duck.details
    (s,) = on_spark.details
    assert {k: v[k] for k in v if k not in ("mean_score", "per_day", "psi")} == {
        k: s[k] for k in s if k not in ("mean_score", "per_day", "psi")
    }
    assert v["mean_score"] == pytest.approx(s["mean_score"]) and v["psi"] == pytest.approx(s["psi"])

    # by hand, from the rows Spark reads back
    scores = spark.read.format("delta").load(settings.table("silver.review_scores").path).collect()
    labels = {r["event_id"]: r["label"] for r in spark.read.format("delta").load(settings.table("silver.reviews").path).collect()}
    rated = [r for r in scores if labels[r["event_id"]] is not None]
    hist = [0] * 10
    for r in scores:
        hist[min(int(r["score"] * 10), 9)] += 1
    e = [max(c / ref["rows"], 1e-4) for c in ref["counts"]]
    a = [max(c / len(scores), 1e-4) for c in hist]
    assert (v["model_version"], v["rows"], v["rated_rows"], v["histogram"]) == ("1", 180, 162, hist)
    assert v["rating_agreement"] == pytest.approx(sum(r["label"] == labels[r["event_id"]] for r in rated) / len(rated))
    assert 0.6 < v["rating_agreement"] < 1.0  # the contradicting texts keep it below 1
    assert v["psi"] == pytest.approx(sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e)))
    assert v["mlflow_run_id"] == trained.metrics["mlflow_run_id"] and v["psi_reason"] is None
    assert v["aliases"] == ["challenger", "champion"]

    # the same figures drive the SLA: just above the measured agreement is a breach
    import msgspec

    settings.ml.sla = msgspec.structs.replace(
        settings.ml.sla, min_rating_agreement=min(1.0, v["rating_agreement"] + 0.001), max_score_psi=v["psi"] + 0.01
    )
    check = run_job(JobContext(settings=settings), "monitor", {"action": "check", "alert": False})
    by_name = {c["name"]: c for c in check.details}
    assert check.status == "breach" and by_name["min_rating_agreement:sentiment/1"]["status"] == "breach"
    assert by_name["max_score_psi:sentiment/1"]["status"] == "pass"
