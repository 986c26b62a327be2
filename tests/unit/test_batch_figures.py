"""What a foreachBatch function on a Spark Connect server hands back to the client: its figures
(transform's Tally as JSON) and its lakectl errors (kind, message and hint inside the server's text)."""

from __future__ import annotations

from lakectl.errors import JobFailed, TableNotFound
from lakectl.jobs.transform import Tally
from lakectl.quality import RuleMetric, merge_metrics
from lakectl.streaming import carry_error, recover_error


def test_tally_survives_json_and_adds_up():
    one = Tally(batches=1, rows_read=10, to_silver=8, inserted=7, dropped_by_rule={"r": 1}, dims_upserted={"customers": 3})
    merge_metrics(one.rules, [RuleMetric("silver.events", "r", "drop", 10, 9, 1)])
    two = Tally.from_json(one.to_json())
    assert two == one
    total = Tally()
    total.add(one)
    total.add(two)
    assert (total.batches, total.rows_read, total.inserted) == (2, 20, 14)
    assert total.dropped_by_rule == {"r": 2} and total.dims_upserted == {"customers": 6}
    assert total.rules[("silver.events", "r")].rows_failed == 2


def test_a_carried_error_is_recovered_from_the_servers_text():
    carried = carry_error(JobFailed("expectation failed on silver.events: no_reviews (2 rows)", "fix the data"))
    # the Connect client re-raises the server's failure as text around the worker's traceback
    server = RuntimeError(f"[STREAM_FAILED] Query terminated with exception: Traceback ...\n{carried}\n  at org.apache...")
    found = recover_error(server)
    assert isinstance(found, JobFailed) and found.hint == "fix the data" and "no_reviews" in found.message
    assert isinstance(recover_error(carry_error(TableNotFound("gone"))), TableNotFound)
    assert recover_error(RuntimeError("plain failure")) is None
