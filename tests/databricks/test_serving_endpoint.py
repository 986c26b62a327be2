"""`score --via endpoint NAME` on Databricks: lakectl's ServingEndpoint driven through the real
WorkspaceClient against the loopback contract server, asserting the exact requests."""

from __future__ import annotations

import pytest

from tests.databricks_fake.areas.serving import register

pytestmark = pytest.mark.databricks


def _lexicon(records):
    return [0.9 if "good" in r["review_text"] else 0.1 for r in records]


def _scorer(sdk, fake, name: str, **kw):
    from lakectl.ml.endpoint import RetryPolicy, Scorer, ServingEndpoint

    return Scorer(ServingEndpoint(sdk, name, fake.url), retry=RetryPolicy(attempts=2, base_s=0.01), **kw)


def test_batches_go_to_the_invocations_path_as_dataframe_records(sdk, fake):
    register(fake, "sentiment-prod", _lexicon)
    scorer = _scorer(sdk, fake, "sentiment-prod", batch_size=2, concurrency=1)
    assert scorer.score(["good food", "bad food", "good again"]) == [0.9, 0.1, 0.9]
    calls = fake.calls("POST", r"^/serving-endpoints/")
    assert [c.path for c in calls] == ["/serving-endpoints/sentiment-prod/invocations"] * 2
    assert [c.body for c in calls] == [
        {"dataframe_records": [{"review_text": "good food"}, {"review_text": "bad food"}]},
        {"dataframe_records": [{"review_text": "good again"}]},
    ]
    assert [c.status for c in calls] == [200, 200] and scorer.counters.requests == 2


def test_429_is_retried_by_the_sdk_with_retry_after(sdk, fake):
    register(fake, "sentiment-prod", _lexicon)
    fake.inject("POST", r"/serving-endpoints/sentiment-prod/invocations$", 429, retry_after=1)
    assert _scorer(sdk, fake, "sentiment-prod").score(["good"]) == [0.9]
    assert [c.status for c in fake.calls("POST", r"^/serving-endpoints/")] == [429, 200]


def test_unknown_endpoint_refused_input_and_bad_names_are_clear_errors(sdk, fake):
    from lakectl.core.errors import JobFailed, UsageError

    with pytest.raises(UsageError, match="serving endpoint nope on .*not found"):
        _scorer(sdk, fake, "nope").score(["x"])
    register(fake, "wants-other-column", _lexicon, column="text")
    with pytest.raises(JobFailed, match="refused the request: .*missing input column 'text'") as err:
        _scorer(sdk, fake, "wants-other-column").score(["x"])
    assert err.value.exit_code == 1
    before = len(fake.requests)
    for hostile in ("a/../../api/2.0/jobs", "x y", "", "n" * 64):
        with pytest.raises(UsageError, match="is not valid"):
            _scorer(sdk, fake, hostile)
    assert len(fake.requests) == before  # refused before anything was sent


LEXICON_MODEL = """
import mlflow.pyfunc
from mlflow.models import set_model


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [0.5] * len(model_input)


set_model(Constant())
"""


def _lake_with_reviews_and_a_champion(root, texts: list[str]) -> None:
    """silver.reviews written with delta-rs (no JVM here) and version 1 of `sentiment` as champion in
    the sqlite store under the storage root (the registry only names the version the scores carry)."""
    import mlflow
    import mlflow.pyfunc
    import pyarrow as pa
    from deltalake import write_deltalake

    from lakectl.config import settings_from_dict
    from lakectl.ml.store import connect, ensure_experiment, store_of

    settings = settings_from_dict({"storage": {"root": str(root)}}, "<test>")
    reviews = pa.table(
        {
            "event_id": [f"e{i:03d}" for i in range(len(texts))],
            "review_text": texts,
            "rating": pa.array([5] * len(texts), pa.int32()),
            "label": pa.array([1] * len(texts), pa.int32()),
        }
    )
    write_deltalake(settings.table("silver.reviews").path, reviews)
    store = store_of(settings)
    client = connect(store)
    code = root / "constant_model.py"
    code.write_text(LEXICON_MODEL)
    with mlflow.start_run(experiment_id=ensure_experiment(client, store)):
        mlflow.pyfunc.log_model(
            name="model", python_model=str(code), registered_model_name="sentiment", pip_requirements=[f"mlflow=={mlflow.__version__}"]
        )
    client.set_registered_model_alias("sentiment", "champion", "1")


@pytest.mark.e2e
@pytest.mark.slow  # ~3 min here: a wheel, a virtualenv and two Spark jobs on the fake cluster
def test_score_via_endpoint_name_runs_on_the_databricks_target(cli, fake, tmp_path):
    """`lakectl -t dbx score --via endpoint NAME`: the job runs on the (fake) cluster, queries the serving
    endpoint with the runtime's credentials, MERGEs each review once; a rerun sends nothing."""
    import json

    from deltalake import DeltaTable

    from tests.databricks.conftest import write_config

    root = tmp_path / "dbx-lake"
    texts = [f"good review {i}" if i % 3 else f"bad review {i}" for i in range(10)]
    _lake_with_reviews_and_a_champion(root, texts)
    config = write_config(tmp_path / "dbx.yaml", root, tmp_path / "landing")
    register(fake, "sentiment-prod", _lexicon)

    proc = cli("-c", str(config), "--target", "dbx", "score", "--via", "endpoint", "sentiment-prod", "--batch-size", "4", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (doc["rows_written"], doc["model_version"], doc["requests"], doc["retries"]) == (10, "1", 3, 0)
    assert doc["served_by"] == f"serving endpoint sentiment-prod on {fake.url}"
    calls = fake.calls("POST", r"^/serving-endpoints/")
    assert [c.path for c in calls] == ["/serving-endpoints/sentiment-prod/invocations"] * 3
    assert sorted(r["review_text"] for c in calls for r in c.body["dataframe_records"]) == sorted(texts)
    scores = DeltaTable(_scores_path(root)).to_pyarrow_table().to_pylist()
    assert sorted(r["event_id"] for r in scores) == [f"e{i:03d}" for i in range(10)]
    assert all(r["score"] == (0.9 if "good" in texts[int(r["event_id"][1:])] else 0.1) for r in scores)

    again = cli("-c", str(config), "--target", "dbx", "score", "--via", "endpoint", "sentiment-prod", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["rows_written"] == 0
    assert len(fake.calls("POST", r"^/serving-endpoints/")) == 3  # nothing sent again


def _scores_path(root) -> str:
    from lakectl.config import settings_from_dict

    return settings_from_dict({"storage": {"root": str(root)}}, "<test>").table("silver.review_scores").path
