"""`score --via endpoint`: real Spark + Delta, a model trained into a real sqlite MLflow store, and
either a scripted loopback scoring server (503 twice, 400) or a real `mlflow models serve` process."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from scoring_server import Server, score_of  # tests/integration: a scripted loopback scoring server

pytestmark = pytest.mark.spark

REPO = Path(__file__).resolve().parents[2]
FAST_ML = {"reg_params": [0.1], "num_features": 4096, "min_labelled_rows": 40}
_GOOD = ("great", "excellent", "love", "perfect", "wonderful", "fantastic", "happy", "recommend")
_BAD = ("terrible", "awful", "broken", "waste", "worst", "disappointed", "poor", "useless")


def _corpus(n: int) -> list[tuple[str, int]]:
    import random

    from lakectl.ml.corpus import load_review_texts, sentiment_data_dir

    uci = sentiment_data_dir(REPO) / "yelp_labelled.txt"
    rng = random.Random(3)
    if uci.exists():
        rows = load_review_texts(uci)
        rng.shuffle(rows)
        return rows[:n]
    return [(" ".join(["the", "food", "was", rng.choice(_GOOD if i % 2 else _BAD), "really"]), i % 2) for i in range(n)]


def _settings(root: Path, ml: dict):
    from lakectl.config import settings_from_dict

    return settings_from_dict({"storage": {"root": str(root)}, "ml": ml}, "<test>")


def _write_reviews(spark, settings, rows) -> None:
    data = [(f"e{i:05d}", text, 5 if label else 1, label) for i, (text, label) in enumerate(rows)]
    (
        spark.createDataFrame(data, "event_id string, review_text string, rating int, label int")
        .write.format("delta")
        .mode("overwrite")
        .save(settings.table("silver.reviews").path)
    )


def _run(ctx, **params):
    from lakectl.jobs import run_job

    return run_job(ctx, "score", params)


@pytest.fixture(scope="module")
def trained(spark, tmp_path_factory):
    """Version 1 of `sentiment` (champion) in a sqlite store shared by every test's own lake: a small
    Spark pipeline logged with mlflow.spark.log_model (what `train` logs, without its grid and reports)."""
    import mlflow
    import mlflow.spark
    import pyspark
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import HashingTF, Tokenizer

    from lakectl.ml.store import connect, ensure_experiment, store_of

    root = tmp_path_factory.mktemp("served")
    store_dir = root / "mlflow"
    ml = {**FAST_ML, "tracking_uri": f"sqlite:///{store_dir / 'mlflow.db'}", "artifact_location": (store_dir / "artifacts").as_uri()}
    rows = _corpus(160)
    store = store_of(_settings(root / "train-lake", ml))
    client = connect(store)
    data = spark.createDataFrame([(t, float(label)) for t, label in rows], "review_text string, label double")
    model = Pipeline(
        stages=[
            Tokenizer(inputCol="review_text", outputCol="words"),
            HashingTF(inputCol="words", outputCol="features", numFeatures=1024),
            LogisticRegression(maxIter=20, regParam=0.01),
        ]
    ).fit(data)
    signature = ModelSignature(inputs=Schema([ColSpec("string", "review_text")]), outputs=Schema([ColSpec("double")]))
    with mlflow.start_run(experiment_id=ensure_experiment(client, store)):
        mlflow.spark.log_model(
            model,
            "model",
            signature=signature,
            registered_model_name="sentiment",
            pip_requirements=[f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"],
        )
    client.set_registered_model_alias("sentiment", "champion", "1")
    return ml, rows


@pytest.fixture
def lake(spark, trained, tmp_path):
    from lakectl.engine.context import JobContext

    ml, rows = trained
    ctx = JobContext(settings=_settings(tmp_path / "lake", ml), _spark=spark)
    _write_reviews(spark, ctx.settings, rows)
    return ctx, rows


def _scores(spark, ctx):
    return spark.read.format("delta").load(ctx.settings.table("silver.review_scores").path)


def test_503_twice_then_200_scores_each_review_once_and_a_rerun_sends_nothing(lake, spark):
    ctx, rows = lake
    texts = {f"e{i:05d}": text for i, (text, _) in enumerate(rows)}
    with Server([(503, {"Retry-After": "0"}, None), (503, {}, None)]) as server:
        plan = _run(ctx, via="endpoint", endpoint=server.url, batch_size=16, concurrency=2, dry_run=True)
        assert plan.metrics["would_score"] == len(rows) and plan.metrics["would_request"] == math.ceil(len(rows) / 16)
        assert not server.bodies  # a dry run sends nothing
        first = _run(ctx, via="endpoint", endpoint=server.url, batch_size=16, concurrency=2)
    m = first.to_dict()
    assert first.rows_written == plan.metrics["would_score"] == len(rows)
    assert (m["retries"], m["requests"]) == (2, math.ceil(len(rows) / 16) + 2)
    assert m["model_version"] == "1" and m["served_by"] == f"{server.url}/invocations"
    assert len(server.bodies) == m["requests"]  # the two refused requests were sent again
    sent = [row[0] for body in server.bodies for row in body["dataframe_split"]["data"]]
    assert sorted(set(sent)) == sorted(set(texts.values()))
    table = _scores(spark, ctx)
    got = table.collect()
    assert len(got) == len(rows) == table.select("event_id").distinct().count()
    assert {r["model_version"] for r in got} == {"1"} and {r["model_alias"] for r in got} == {"champion"}
    assert all(r["score"] == score_of(texts[r["event_id"]]) and r["label"] == int(r["score"] >= 0.5) for r in got)
    assert all(r["mlflow_run_id"] and r["run_id"] == ctx.run_id for r in got)

    with Server() as again:
        rerun = _run(ctx, via="endpoint", endpoint=again.url)
    assert (rerun.rows_written, rerun.metrics["requests"], len(again.bodies)) == (0, 0, 0)
    assert _scores(spark, ctx).count() == len(rows)


def test_unreachable_server_is_exit_4_and_writes_nothing(lake):
    from lakectl.core.errors import SourceUnavailable

    ctx, _ = lake
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(SourceUnavailable) as err:
        _run(ctx, via="endpoint", endpoint=f"http://user:pw@127.0.0.1:{port}", max_attempts=2)
    assert err.value.exit_code == 4 and f"http://***@127.0.0.1:{port}/invocations" in err.value.message
    assert "pw" not in err.value.one_line()
    assert not Path(ctx.settings.table("silver.review_scores").path).exists()


def test_a_400_answer_is_exit_1_with_one_line_and_writes_nothing(lake, tmp_path):
    ctx, _ = lake
    config = tmp_path / "lakectl.yaml"
    config.write_text(
        json.dumps(
            {
                "storage": {"root": str(ctx.settings.storage.root_dir)},
                "ml": {
                    k: v
                    for k, v in {
                        **FAST_ML,
                        "tracking_uri": ctx.settings.ml.tracking_uri,
                        "artifact_location": ctx.settings.ml.artifact_location,
                    }.items()
                },
            }
        )
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LAKECTL_CONFIG", None)
    refusal = {"error_code": "BAD_REQUEST", "message": "Failed to enforce schema: missing column review_text"}
    with Server([(400, {}, refusal)]) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "lakectl", "-c", str(config), "score", "--via", "endpoint", server.url, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert proc.returncode == 1, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("lakectl: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    assert "HTTP 400" in errors[0] and f"{server.url}/invocations" in errors[0] and "missing column review_text" in errors[0]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert doc["status"] == "error" and doc["error"]["exit_code"] == 1
    assert len(server.bodies) == 1  # a 4xx is not retried
    assert not Path(ctx.settings.table("silver.review_scores").path).exists()


def test_ai_query_scores_through_the_sql_statement_on_a_databricks_target(lake, spark):
    from lakectl.config import settings_from_dict
    from lakectl.core.errors import UsageError
    from lakectl.engine.context import JobContext

    ctx, rows = lake
    with pytest.raises(UsageError, match="needs a Databricks target") as err:
        _run(ctx, via="ai_query", endpoint="sentiment-prod")
    assert err.value.exit_code == 2
    config = {
        "storage": {"root": str(ctx.settings.storage.root_dir)},
        "ml": {**FAST_ML, "tracking_uri": ctx.settings.ml.tracking_uri, "artifact_location": ctx.settings.ml.artifact_location},
        "targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", "serverless": True}},
    }
    on_cluster = JobContext(settings=settings_from_dict(config, "<test>"), target_name="dbx", on_cluster=True, _spark=spark)

    def ai_query(endpoint, request, returnType=None):  # noqa: N803 - the SQL function's own argument name
        """Open-source Spark has no ai_query(): this function stands in for it (same name and arguments),
        so the statement lakectl builds runs through Spark for real (nested: pickled by value)."""
        return 0.75 if endpoint == "sentiment-prod" and returnType == "DOUBLE" else 0.0

    spark.udf.register("ai_query", ai_query, "double")
    try:
        plan = _run(on_cluster, via="ai_query", endpoint="sentiment-prod", dry_run=True)
        assert plan.metrics["would_score"] == len(rows) and "ai_query" in plan.metrics["plan"]
        first = _run(on_cluster, via="ai_query", endpoint="sentiment-prod")
        again = _run(on_cluster, via="ai_query", endpoint="sentiment-prod")
    finally:
        spark.sql("DROP TEMPORARY FUNCTION IF EXISTS ai_query")
    assert (first.rows_written, again.rows_written) == (len(rows), 0)
    assert first.metrics["served_by"] == "ai_query(sentiment-prod)"
    got = _scores(spark, ctx).collect()
    assert len(got) == len(rows) == len({r["event_id"] for r in got})
    assert {(r["score"], r["label"], r["model_version"]) for r in got} == {(0.75, 1, "1")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, url: str, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mlflow models serve exited with {proc.returncode}: {proc.stdout.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"mlflow models serve was not ready within {limit_s} s")


@contextmanager
def mlflow_serve(model_uri: str, tracking_uri: str, cwd: Path, limit_s: float = 300):
    """A real `mlflow models serve --env-manager local` on a free loopback port; killed (its process
    group, by id) on the way out."""
    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_REGISTRY_URI": tracking_uri, "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            model_uri,
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "1",
        ],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(proc, url, limit_s)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass


LEXICON_MODEL = """
import mlflow.pyfunc
from mlflow.models import set_model

GOOD, BAD = {good!r}, {bad!r}


class Lexicon(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        out = []
        for text in model_input["review_text"]:
            words = str(text).split()
            good, bad = sum(w in GOOD for w in words), sum(w in BAD for w in words)
            out.append({{"score": (1 + good) / (2 + good + bad)}})
        return out


set_model(Lexicon())
"""


def _lexicon_score(text: str) -> float:
    words = text.split()
    good, bad = sum(w in _GOOD for w in words), sum(w in _BAD for w in words)
    return (1 + good) / (2 + good + bad)


def test_a_real_mlflow_server_with_a_pyfunc_model_returning_probabilities(lake, spark, tmp_path):
    """The bounded variant (no JVM in the server): a pyfunc model (models-from-code) registered as
    version 2, served by a real `mlflow models serve`, answering {"score": P(positive)} per row."""
    import mlflow
    import mlflow.pyfunc

    from lakectl.ml.store import connect, store_of

    ctx, rows = lake
    code = tmp_path / "lexicon_model.py"
    code.write_text(LEXICON_MODEL.format(good=_GOOD, bad=_BAD))
    client = connect(store_of(ctx.settings))
    if "2" not in {v.version for v in client.search_model_versions("name = 'sentiment'")}:  # module-scoped store
        with mlflow.start_run(experiment_id=client.get_experiment_by_name(ctx.settings.ml.experiment).experiment_id):
            mlflow.pyfunc.log_model(
                name="model",
                python_model=str(code),
                registered_model_name="sentiment",
                input_example=None,
                pip_requirements=[f"mlflow=={mlflow.__version__}"],
            )
    with mlflow_serve("models:/sentiment/2", ctx.settings.ml.tracking_uri, tmp_path, limit_s=120) as url:
        result = _run(ctx, model="sentiment/2", via="endpoint", endpoint=url, batch_size=64, concurrency=2)
    assert result.rows_written == len(rows) and result.metrics["model_version"] == "2"
    texts = {f"e{i:05d}": text for i, (text, _) in enumerate(rows)}
    got = _scores(spark, ctx).where("model_version = '2'").collect()
    assert len(got) == len(rows) == len({r["event_id"] for r in got})
    assert all(r["score"] == pytest.approx(_lexicon_score(texts[r["event_id"]])) for r in got)
    assert {r["label"] for r in got} == {0, 1}


def test_a_real_mlflow_scoring_server_agrees_with_batch_scoring(lake, spark, tmp_path):
    """`mlflow models serve -m models:/sentiment/1 --env-manager local` on 127.0.0.1: a Spark-flavour model
    served this way answers the predicted label (0/1), so its scores are 0.0/1.0 and its labels must
    equal batch scoring's for every review. 36-46 s here (the server starts its own Spark JVM), 94 s once
    at a load average of 11: unmarked, as it is under a minute on a quiet machine."""
    from pyspark.sql import functions as F

    from lakectl.ml import scoring

    ctx, rows = lake
    with mlflow_serve("models:/sentiment/1", ctx.settings.ml.tracking_uri, tmp_path) as url:
        result = _run(ctx, via="endpoint", endpoint=url, batch_size=50, concurrency=2)
    assert result.rows_written == len(rows) and result.metrics["requests"] == math.ceil(len(rows) / 50)
    served = {r["event_id"]: (r["score"], r["label"]) for r in _scores(spark, ctx).collect()}
    reviews = spark.read.format("delta").load(ctx.settings.table("silver.reviews").path).select("event_id", "review_text")
    batch = {
        r["event_id"]: r["predicted"]
        for r in scoring.predict(scoring.load("models:/sentiment/1"), reviews).select("event_id", F.col("predicted")).collect()
    }
    assert len(served) == len(batch) == len(rows)
    assert {eid: label for eid, (_, label) in served.items()} == batch
    assert {score for score, _ in served.values()} <= {0.0, 1.0}
