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
    assert [c.body for c in calls] == [{"dataframe_records": [{"review_text": "good food"}, {"review_text": "bad food"}]},
                                       {"dataframe_records": [{"review_text": "good again"}]}]
    assert [c.status for c in calls] == [200, 200] and scorer.counters.requests == 2


def test_429_is_retried_by_the_sdk_with_retry_after(sdk, fake):
    register(fake, "sentiment-prod", _lexicon)
    fake.inject("POST", r"/serving-endpoints/sentiment-prod/invocations$", 429, retry_after=1)
    assert _scorer(sdk, fake, "sentiment-prod").score(["good"]) == [0.9]
    assert [c.status for c in fake.calls("POST", r"^/serving-endpoints/")] == [429, 200]


def test_unknown_endpoint_refused_input_and_bad_names_are_clear_errors(sdk, fake):
    from lakectl.errors import JobFailed, UsageError

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
