"""The served-model client of `score --via endpoint` against a real loopback HTTP server (no Spark),
and the SQL of `--via ai_query`."""

from __future__ import annotations

import time

import pytest
from scoring_server import Server, score_of  # tests/integration: a scripted loopback scoring server

from lakectl.core.errors import JobFailed, SourceUnavailable, UsageError
from lakectl.ml.endpoint import MlflowServer, RetryPolicy, Scorer, _retry_after, invocations_url, parse_predictions


def _scorer(url: str, **kw) -> Scorer:
    sleeps: list[float] = []
    scorer = Scorer(MlflowServer(url, timeout_s=5), sleep=sleeps.append, seed=1, **kw)
    scorer.sleeps = sleeps  # type: ignore[attr-defined]
    return scorer


TEXTS = [f"review number {i}" + "!" * (i % 7) for i in range(23)]


def test_batches_concurrency_and_order_are_kept():
    with Server() as server:
        scorer = _scorer(server.url, batch_size=5, concurrency=3)
        assert scorer.score(TEXTS) == [score_of(t) for t in TEXTS]
    assert len(server.bodies) == 5 and scorer.counters.requests == 5 and scorer.counters.retries == 0
    assert set(server.paths) == {"/invocations"}
    assert sorted(len(b["dataframe_split"]["data"]) for b in server.bodies) == [3, 5, 5, 5, 5]
    assert all(b["dataframe_split"]["columns"] == ["review_text"] for b in server.bodies)


def test_503_twice_then_200_is_retried_with_retry_after_honoured():
    script = [(503, {"Retry-After": "2"}, None), (429, {}, None)]
    with Server(script) as server:
        scorer = _scorer(server.url, batch_size=100)
        assert scorer.score(TEXTS) == [score_of(t) for t in TEXTS]
    assert (scorer.counters.requests, scorer.counters.retries) == (3, 2)
    assert scorer.sleeps[0] == 2.0  # the server's Retry-After
    assert 0 <= scorer.sleeps[1] <= RetryPolicy().base_s * 2  # full-jitter backoff of the 2nd retry


def test_exhausted_retries_and_unreachable_are_exit_4_naming_the_url():
    with Server([(500, {}, None)] * 3) as server:
        with pytest.raises(SourceUnavailable) as err:
            _scorer(server.url + "/invocations", retry=RetryPolicy(attempts=3)).score(TEXTS[:2])
    assert err.value.exit_code == 4 and "failed 3 time(s)" in err.value.message and "HTTP 500" in err.value.message
    server_url = server.url
    with pytest.raises(SourceUnavailable) as err:  # the server is gone: connection refused
        _scorer(server_url, retry=RetryPolicy(attempts=2)).score(TEXTS[:2])
    assert f"{server_url}/invocations" in err.value.message


def test_a_4xx_is_exit_1_at_once_with_status_and_body_excerpt():
    with Server([(400, {}, {"error_code": "BAD_REQUEST", "message": "column review_text missing"})]) as server:
        scorer = _scorer(server.url)
        with pytest.raises(JobFailed) as err:
            scorer.score(TEXTS)
    assert err.value.exit_code == 1 and scorer.counters.requests == 1
    line = err.value.one_line()
    assert "HTTP 400" in line and "column review_text missing" in line and server.url in line and "\n" not in line


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ({"predictions": [0.5]}, "1 predictions for 2 texts"),
        ({"predictions": [0.5, 1.5]}, "prediction 1 is not a score between 0 and 1"),
        ({"predictions": [0.5, "x"]}, "prediction 1 is not a score"),
        ({"outputs": [0.5, 0.5]}, "without a `predictions` list"),
    ],
)
def test_malformed_answers_are_clear_errors(answer, fragment):
    with pytest.raises(JobFailed, match=fragment):
        parse_predictions(answer, 2, "server")


def test_prediction_shapes():
    answer = {"predictions": [1, 0.25, {"score": 0.5}, {"probability": [0.1, 0.9]}, {"probability": 0.3}]}
    assert parse_predictions(answer, 5, "s") == [1.0, 0.25, 0.5, 0.9, 0.3]
    with Server([(200, {}, b"<html>not json</html>")]) as server:
        with pytest.raises(JobFailed, match="not JSON"):
            _scorer(server.url).score(["a"])


def test_url_handling_masks_credentials():
    assert invocations_url("http://127.0.0.1:5000") == "http://127.0.0.1:5000/invocations"
    assert invocations_url("http://127.0.0.1:5000/") == "http://127.0.0.1:5000/invocations"
    assert invocations_url("https://h/serving/x/invocations?v=1") == "https://h/serving/x/invocations?v=1"
    server = MlflowServer("https://ops:s3cret@h:1/score?token=abc")
    assert "s3cret" not in server.display and "abc" not in server.display and "***" in server.display
    with pytest.raises(UsageError):
        invocations_url("ftp://h/x")
    assert _retry_after("3") == 3.0 and _retry_after(None) is None and _retry_after("soon") is None
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 20 < _retry_after(http_date) <= 31


def test_ai_query_sql_text_quotes_the_endpoint_as_a_literal():
    from lakectl.core.sql import ai_query_scores_sql

    assert ai_query_scores_sql("sentiment-prod", "`_v`") == (
        "SELECT `event_id`, ai_query('sentiment-prod', `review_text`, returnType => 'DOUBLE') AS `score` FROM `_v`"
    )
    hostile = "x', review_text) AS score FROM t; DROP TABLE silver.reviews; --\\"
    text = ai_query_scores_sql(hostile, "`_v`")
    assert text == (
        "SELECT `event_id`, ai_query('x\\', review_text) AS score FROM t; DROP TABLE silver.reviews; --\\\\', "
        "`review_text`, returnType => 'DOUBLE') AS `score` FROM `_v`"
    )
    with pytest.raises(ValueError):
        ai_query_scores_sql("a\x00b", "`_v`")


def test_the_ledger_masks_credentials_in_an_endpoint_url():
    from lakectl.config import mask_secrets

    params = {"via": "endpoint", "endpoint": "https://ops:s3cret@h:1/score?sig=zz&v=1&token=abc", "batch_size": 256}
    assert mask_secrets(params) == {"via": "endpoint", "endpoint": "https://***@h:1/score?sig=***&v=1&token=***", "batch_size": 256}


def test_after_a_failed_batch_queued_batches_are_not_sent():
    with Server([(400, {}, {"message": "bad row"})]) as server:
        scorer = _scorer(server.url, batch_size=1, concurrency=2)
        with pytest.raises(JobFailed, match="HTTP 400"):
            scorer.score(TEXTS)
    assert len(server.bodies) < len(TEXTS) // 2  # the failure and about the requests already in flight


def test_a_hostile_ai_query_endpoint_name_is_refused_before_any_work(tmp_path):
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs.score import ScoreParams
    from lakectl.ml import served

    settings = settings_from_dict(
        {
            "storage": {"root": str(tmp_path / "lake")},
            "targets": {"local": {"kind": "local"}, "dbx": {"kind": "databricks", "serverless": True}},
        },
        "<test>",
    )
    ctx = JobContext(settings=settings, target_name="dbx", on_cluster=True)
    with pytest.raises(UsageError, match="is not valid") as err:
        served.run(ctx, ScoreParams(via="ai_query", endpoint="x', review_text) --"))
    assert err.value.exit_code == 2 and not (tmp_path / "lake").exists()
