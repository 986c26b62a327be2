"""train / score / model against a real MLflow sqlite store and real local Spark + Delta.

One small lake for the module (silver.reviews written directly: a few hundred labelled sentences,
the UCI ones when ../shared/data/sentiment is there). Tests run in file order on it.
"""

from __future__ import annotations

import json
import random
import re
import socket
from pathlib import Path

import pytest
from review_corpus import review_corpus  # tests/integration: the ML tests' labelled sentences

pytestmark = pytest.mark.spark  # train, gate, score, registry: CI runs them (scoring a challenger is the slow variant)

REPO = Path(__file__).resolve().parents[2]
FAST_ML = {"num_features": 4096, "min_labelled_rows": 40}  # featurizer: the default (encoder)
TFIDF_GRID = [0.01, 0.1]


def _settings(root: Path, **ml):
    from lakectl.config import settings_from_dict

    return settings_from_dict({"storage": {"root": str(root)}, "ml": {**FAST_ML, **ml}}, "<test>")


def _write_reviews(spark, settings, rows: list[tuple[str, int]], *, mode: str = "overwrite", shuffle_train: bool = False) -> None:
    """silver.reviews rows (event_id, review_text, rating, label) from (text, label) pairs."""
    from pyspark.sql import functions as F

    from lakectl.ml.dataset import split_column

    data = [(f"e{i:05d}", text, 5 if label else 1) for i, (text, label) in enumerate(rows)]
    df = spark.createDataFrame(data, "event_id string, review_text string, rating int")
    if shuffle_train:  # a deliberately worse model: ratings of the train split shuffled, validation/test kept
        split = df.select("*", split_column(settings.ml).alias("split"))
        train = split.where("split = 'train'")
        ratings = [r["rating"] for r in train.select("rating").collect()]
        random.Random(7).shuffle(ratings)
        ids = [r["event_id"] for r in train.select("event_id").collect()]
        remap = spark.createDataFrame(list(zip(ids, ratings)), "event_id string, new_rating int")
        df = split.join(remap, "event_id", "left").select("event_id", "review_text", F.coalesce("new_rating", "rating").alias("rating"))
    df = df.withColumn("label", F.when(F.col("rating") >= 4, 1).when(F.col("rating") <= 2, 0))
    df.write.format("delta").mode(mode).option("overwriteSchema", "true").save(settings.table("silver.reviews").path)


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    from lakectl.engine.context import JobContext

    root = tmp_path_factory.mktemp("ml") / "lake"
    settings = _settings(root)
    rows = review_corpus()
    _write_reviews(spark, settings, rows)
    return JobContext(settings=settings, _spark=spark), rows


def _run(ctx, job: str, **params):
    from lakectl.jobs import run_job

    return run_job(ctx, job, params)


def _client(ctx):
    from lakectl.ml.store import connect, store_of

    return connect(store_of(ctx.settings), create=False)


def test_train_dry_run_reads_counts_and_writes_nothing(lake):
    ctx, rows = lake
    result = _run(ctx, "train", dry_run=True)
    assert result.dry_run and result.status == "dry_run"
    counts = result.metrics["rows"]
    assert sum(sum(c.values()) for c in counts.values()) == len(rows)
    assert sum(c["positive"] for c in counts.values()) == sum(label for _, label in rows)
    assert result.metrics["table_version"] == 0 and "would_write" in result.metrics
    assert not (ctx.settings.storage.root_dir / "mlflow").exists()


def test_train_dry_run_counts_from_the_log_without_a_jvm_as_spark_counts(lake, spark):
    """The dry run reads silver.reviews with delta-rs and splits by Spark's xxhash64, written out in Python: every
    count per split and label equals the training set Spark builds."""
    from no_jvm import config_for, lakectl

    from lakectl.ml import dataset

    ctx, _ = lake
    handle = ctx.settings.table("silver.reviews")
    config = config_for(ctx.settings.storage.root_dir, "ml:\n  num_features: 4096\n  min_labelled_rows: 40\n")
    run = lakectl("train", "--dry-run", "--json", config=config)
    assert run.returncode == 0 and not run.pyspark, run.stderr
    doc = run.json()
    data = dataset.load(spark, handle.display, handle.path, 0, ctx.settings.ml)
    try:
        assert doc["rows"] == data.counts and doc["labelled_rows"] == data.labelled and doc["status"] == "dry_run"
    finally:
        data.rows.unpersist()
    assert doc["planned_from"] == "the Delta log (no Spark started)"
    strict = lakectl("train", "--dry-run", config=config_for(ctx.settings.storage.root_dir, "ml:\n  min_labelled_rows: 100000\n"))
    assert strict.returncode != 0 and not strict.pyspark and "too few labelled reviews to train" in strict.stderr


def test_split_is_stable_by_event_id(lake):
    ctx, _ = lake
    from lakectl.ml.dataset import split_column

    df = ctx.spark.read.format("delta").load(ctx.settings.table("silver.reviews").path)
    a = {r[0]: r[1] for r in df.select("event_id", split_column(ctx.settings.ml)).collect()}
    b = {r[0]: r[1] for r in df.orderBy("review_text").select("event_id", split_column(ctx.settings.ml)).collect()}
    assert a == b and set(a.values()) == {"train", "validation", "test"}
    share = sum(v == "train" for v in a.values()) / len(a)
    assert 0.6 < share < 0.8


def test_first_train_registers_champion_with_a_complete_run(lake):
    ctx, rows = lake
    result = _run(ctx, "train")
    m = result.metrics
    assert (m["model_name"], m["model_version"], m["alias"], m["promoted"]) == ("sentiment", "1", "champion", True)
    assert m["test_accuracy"] > 0.75 and m["reg_param"] in ctx.settings.ml.grid_for("encoder")

    client = _client(ctx)
    assert str(client.get_model_version_by_alias("sentiment", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("sentiment", "challenger").version) == "1"
    run = client.get_run(m["mlflow_run_id"])
    assert {"validation_accuracy", "test_accuracy", "test_f1", "test_roc_auc", "test_log_loss"} <= set(run.data.metrics)
    assert run.data.params["table_version"] == "0" and run.data.params["featurizer"] == "encoder"
    assert run.data.tags["lakectl.run_id"] == ctx.run_id and "lakectl.version" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(m["mlflow_run_id"])}
    assert {"confusion_matrix_test.json", "calibration_test.png"} <= artifacts
    dataset = run.inputs.dataset_inputs[0].dataset
    source = json.loads(dataset.source)
    assert dataset.name == "silver.reviews" and source["path"] == ctx.settings.table("silver.reviews").path
    assert str(source["delta_table_version"]) == "0"
    import mlflow

    model_info = mlflow.models.get_model_info("models:/sentiment/1")
    assert model_info.signature is not None and model_info.signature.inputs.input_names() == ["review_text"]
    exp = client.get_experiment(m["experiment_id"])
    assert exp.artifact_location.startswith((ctx.settings.storage.root_dir / "mlflow").as_uri())
    # the registered pyfunc (what `mlflow models serve` runs) gives the scores Spark gives
    import pandas as pd

    from lakectl.ml import scoring

    texts = [t for t, _ in rows[:8]]
    served = mlflow.pyfunc.load_model("models:/sentiment/1").predict(pd.DataFrame({"review_text": texts}))
    in_spark = scoring.predict(
        scoring.load("models:/sentiment/1"), ctx.spark.createDataFrame([(t,) for t in texts], "review_text string")
    ).collect()
    assert [round(float(x), 4) for x in served] == [round(r["score"], 4) for r in in_spark]


def test_worse_model_is_registered_but_not_promoted(lake, spark):
    ctx, rows = lake
    _write_reviews(spark, ctx.settings, rows, shuffle_train=True)  # silver.reviews version 1
    # the other featurizer, so the gate re-scores an encoder champion on the split a tfidf challenger saw
    result = _run(ctx, "train", featurizer="tfidf", reg_params=TFIDF_GRID)
    m = result.metrics
    assert m["table_version"] == 1 and m["model_version"] == "2" and m["featurizer"] == "tfidf"
    assert m["promoted"] is False and m["alias"] == "challenger"
    assert m["gate"]["champion_version"] == "1" and m["gate"]["champion"] > m["gate"]["challenger"]
    client = _client(ctx)
    assert str(client.get_model_version_by_alias("sentiment", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("sentiment", "challenger").version) == "2"
    run = client.get_run(m["mlflow_run_id"])
    assert run.data.tags["lakectl.promoted"] == "false" and "champion_test_accuracy" in run.data.metrics
    _write_reviews(spark, ctx.settings, rows)  # version 2: the true labels again


def test_score_writes_each_review_once_and_a_rerun_writes_nothing(lake, spark):
    ctx, rows = lake
    first = _run(ctx, "score")
    assert first.metrics["model_version"] == "1" and first.rows_written == len(rows)
    again = _run(ctx, "score")
    assert again.rows_written == 0
    scores = spark.read.format("delta").load(ctx.settings.table("silver.review_scores").path)
    assert scores.count() == len(rows) == scores.select("event_id").distinct().count()
    row = scores.first()
    assert 0.0 <= row["score"] <= 1.0 and row["model_alias"] == "champion" and row["model_name"] == "sentiment"
    labels = {r["event_id"]: r["label"] for r in spark.read.format("delta").load(ctx.settings.table("silver.reviews").path).collect()}
    agree = sum(labels[r["event_id"]] == r["label"] for r in scores.collect()) / len(rows)
    assert agree > 0.7  # the champion reproduces most labels (train rows included)


def test_score_with_nothing_to_score_and_its_dry_run_start_no_jvm(lake):
    """Every review has the champion's score: score and score --dry-run answer from the Delta logs without a JVM
    (MLflow, which resolves the model, imports pyspark's Python modules itself); a dry run counts the reviews the
    model version has not scored."""
    from no_jvm import config_for, lakectl

    ctx, rows = lake
    config = config_for(ctx.settings.storage.root_dir, "ml:\n  num_features: 4096\n  min_labelled_rows: 40\n")
    again = lakectl("score", "--json", config=config)
    assert again.returncode == 0 and not again.jvm, again.stderr
    doc = again.json()
    assert doc["rows_written"] == 0 and doc["tables_written"] == [] and doc["model_version"] == "1"
    assert doc["note"].startswith("nothing to do: every review in silver.reviews has a score from sentiment version 1")
    planned = lakectl("score", "--dry-run", "--rescore", "--json", config=config)
    assert planned.returncode == 0 and not planned.jvm, planned.stderr
    assert planned.json()["would_score"] == len(rows)
    challenger = lakectl("score", "--dry-run", "--model", "sentiment/2", "--json", config=config)
    assert challenger.returncode == 0 and not challenger.jvm, challenger.stderr
    assert challenger.json()["would_score"] == len(rows)  # version 2 has scored nothing yet


def test_score_killed_after_its_merge_then_rerun_scores_each_review_once(lake, spark, tmp_path):
    """kill -9 right after score's MERGE commit (LAKECTL_KILL_AT), on a copy of the lake without scores:
    the re-run writes nothing more, the scores equal an uninterrupted run's, and ops.runs shows the
    killed run as interrupted."""
    import os
    import shutil
    import subprocess
    import sys

    from deltalake import DeltaTable

    ctx, rows = lake
    root = tmp_path / "lake"
    shutil.copytree(ctx.settings.storage.root_dir, root, ignore=shutil.ignore_patterns("review_scores", "runs"))
    config = tmp_path / "lakectl.yaml"
    config.write_text(json.dumps({"storage": {"root": str(root)}, "ml": FAST_ML}))
    env = {**os.environ, "LAKECTL_KILL_AT": "score.after_merge", "PYTHONPATH": str(REPO)}
    env.pop("LAKECTL_LEDGER", None)
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", "--config", str(config), "score"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]

    from lakectl.engine.context import JobContext

    copy = JobContext(settings=_settings(root), _spark=spark)
    assert _run(copy, "score").rows_written == 0  # the killed run's MERGE stands; nothing is scored twice
    mine = spark.read.format("delta").load(copy.settings.table("silver.review_scores").path)
    ref = spark.read.format("delta").load(ctx.settings.table("silver.review_scores").path).where("model_version = '1'")
    assert mine.count() == len(rows) == mine.select("event_id").distinct().count()
    assert sorted(mine.select("event_id", "label").collect()) == sorted(ref.select("event_id", "label").collect())
    runs = DeltaTable(copy.settings.table("ops.runs").path).to_pyarrow_table().to_pylist()
    assert sorted((r["command"], r["status"]) for r in runs) == [("score", "interrupted"), ("score", "ok")]


def test_score_continuous_scores_reviews_as_they_land_and_stops_cleanly(lake, spark, tmp_path):
    """`score --continuous` on a copy of the lake without scores: the backlog is scored, reviews appended
    while it runs are scored within a few triggers, SIGTERM ends it with 130, and a batch run after it
    finds nothing left to score."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from deltalake import DeltaTable

    ctx, rows = lake
    root = tmp_path / "lake"
    shutil.copytree(ctx.settings.storage.root_dir, root, ignore=shutil.ignore_patterns("review_scores", "runs", "checkpoints"))
    config = tmp_path / "lakectl.yaml"
    config.write_text(json.dumps({"storage": {"root": str(root)}, "ml": FAST_ML}))
    copy = _settings(root)
    scores_path = copy.table("silver.review_scores").path

    def scored() -> int:
        try:
            return len(DeltaTable(scores_path).to_pyarrow_table(columns=["event_id"]))
        except Exception:  # not created yet
            return 0

    def wait_for(n: int, proc, limit: float = 240.0) -> None:
        end = time.monotonic() + limit
        while scored() < n:
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < end, f"{scored()} of {n} scored after {limit:.0f} s"
            time.sleep(0.5)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LAKECTL_LEDGER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lakectl", "--config", str(config), "score", "--continuous", "--trigger-interval", "1 second"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(len(rows), proc)
        more = [(f"late {text}", label) for text, label in rows[:20]]
        data = [(f"x{i:05d}", text, 5 if label else 1, label) for i, (text, label) in enumerate(more)]
        spark.createDataFrame(data, "event_id string, review_text string, rating int, label int").write.format("delta").mode("append").save(
            copy.table("silver.reviews").path
        )
        landed = time.monotonic()
        wait_for(len(rows) + 20, proc)
        latency = time.monotonic() - landed
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err[-2000:]
    assert latency < 60
    # Each review counted once (issue 33): the progress lines and the stop line say the rows the batches held
    # and the scores they committed, not Spark's per-source count (every read of a batch added to it).
    lines = [
        m for m in map(re.compile(r"^lakectl: score-\S+ batch \d+: ([\d,]+) rows in .*, committed (.*)$").match, err.splitlines()) if m
    ]
    stop = re.search(r"stopped by SIGTERM after (\d+) batch\(es\) with data, ([\d,]+) rows, committed silver\.review_scores ([\d,]+)", err)
    assert len(lines) >= 2 and stop, err[-2000:]
    held = [int(m[1].replace(",", "")) for m in lines]
    committed = [int(m[2].removeprefix("silver.review_scores ").replace(",", "")) for m in lines]
    assert sum(held) == sum(committed) == int(stop[2].replace(",", "")) == int(stop[3].replace(",", "")) == len(rows) + 20, err[-2000:]
    assert int(stop[1]) == len(lines)
    table = DeltaTable(scores_path).to_pyarrow_table().to_pylist()
    assert len(table) == len({r["event_id"] for r in table}) == len(rows) + 20
    assert {r["model_version"] for r in table} == {"1"}
    assert _run(JobContext_of(copy, spark), "score").rows_written == 0


def JobContext_of(settings, spark):  # noqa: N802
    from lakectl.engine.context import JobContext

    return JobContext(settings=settings, _spark=spark)


@pytest.mark.slow
def test_score_challenger_and_rescore(lake, spark):
    ctx, rows = lake
    other = _run(ctx, "score", model="sentiment@challenger")
    assert other.metrics["model_version"] == "2" and other.rows_written == len(rows)
    assert _run(ctx, "score", model="2", dry_run=True).metrics["would_score"] == 0
    redo = _run(ctx, "score", model="sentiment/1", rescore=True)
    assert redo.rows_written == len(rows)
    scores = spark.read.format("delta").load(ctx.settings.table("silver.review_scores").path)
    assert scores.count() == 2 * len(rows)


def test_unknown_alias_is_a_usage_error(lake):
    ctx, _ = lake
    from lakectl.core.errors import UsageError

    with pytest.raises(UsageError, match="no alias @nope"):
        _run(ctx, "score", model="sentiment@nope")


def test_model_show_promote_rollback(lake):
    ctx, _ = lake
    shown = _run(ctx, "model", action="show", name="sentiment")
    assert [d["version"] for d in shown.details] == ["1", "2"]
    assert shown.metrics["aliases"] == {"champion": "1", "challenger": "2"}
    assert _run(ctx, "model", action="promote", name="sentiment", version="2").metrics["champion"] == "2"
    assert str(_client(ctx).get_model_version_by_alias("sentiment", "champion").version) == "2"
    back = _run(ctx, "model", action="rollback", name="sentiment")
    assert (back.metrics["champion_before"], back.metrics["champion"]) == ("2", "1")
    listed = _run(ctx, "model", action="list")
    assert listed.details[0]["name"] == "sentiment" and listed.details[0]["latest_version"] == "2"
    from deltalake import DeltaTable

    ledger = DeltaTable(ctx.settings.table("ops.runs").path).to_pandas()
    assert {"train", "score", "model"} <= set(ledger["command"])


def test_too_few_or_one_class_rows_fail_and_register_nothing(spark, tmp_path):
    from lakectl.core.errors import JobFailed
    from lakectl.engine.context import JobContext

    settings = _settings(tmp_path / "lake")
    ctx = JobContext(settings=settings, _spark=spark)
    _write_reviews(spark, settings, review_corpus(20))
    with pytest.raises(JobFailed, match="too few labelled reviews"):
        _run(ctx, "train")
    _write_reviews(spark, settings, [(t, 1) for t, _ in review_corpus(100)])
    with pytest.raises(JobFailed, match="only positive reviews"):
        _run(ctx, "train")
    assert not (tmp_path / "lake" / "mlflow").exists()


def test_unreachable_store_is_exit_4_with_the_uri_masked(spark, tmp_path):
    from lakectl.core.errors import SourceUnavailable
    from lakectl.engine.context import JobContext

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = _settings(tmp_path / "lake", tracking_uri=f"http://ops:s3cret@127.0.0.1:{port}")
    ctx = JobContext(settings=settings, _spark=spark)
    _write_reviews(spark, settings, review_corpus(100))
    with pytest.raises(SourceUnavailable) as err:
        _run(ctx, "train")
    assert err.value.exit_code == 4
    assert f"http://***@127.0.0.1:{port}" in err.value.message and "s3cret" not in err.value.one_line()


def test_gold_sentiment_takes_the_greatest_model_version_as_a_number(spark):
    from datetime import date

    from lakectl.pipeline.gold.builders import sentiment_daily

    events = spark.createDataFrame(
        [("a", "review", date(2026, 1, 1), "books", 5), ("b", "review", date(2026, 1, 1), "books", 1)],
        "event_id string, event_type string, event_date date, category string, rating int",
    )
    scores = spark.createDataFrame(
        [("a", 0.1, 0, "9"), ("a", 0.9, 1, "10"), ("b", 0.2, 0, "10")], "event_id string, score double, label int, model_version string"
    )
    row = sentiment_daily(events, scores).first()
    assert (row["positive"], row["negative"], row["scored_reviews"]) == (1, 1, 2)
    assert row["avg_score"] == pytest.approx(0.55)  # version 10's 0.9 for "a", not version 9's 0.1
