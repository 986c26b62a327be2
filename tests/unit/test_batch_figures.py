"""What a foreachBatch function on a Spark Connect server hands back to the client: its figures
(transform's Tally as JSON) and its lakectl errors (kind, message and hint inside the server's text)."""

from __future__ import annotations

from lakectl.core.errors import JobFailed, TableNotFound
from lakectl.lake.server_batches import carry_error, recover_error
from lakectl.pipeline.silver.expectations import RuleMetric, merge_metrics
from lakectl.pipeline.silver.tally import Tally


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


def test_progress_from_a_connect_server_gets_its_row_counts_from_the_sources():
    """Spark 4.2's Connect server sends progress JSON without the top-level numInputRows: lakectl's batch
    lines, its 'stopped after N batches' figure and ops.stream_progress summed nothing from it."""
    import json as _json

    from lakectl.lake.stream_progress import as_dict, batch_line

    class Progress:  # what query.recentProgress holds over Connect: an object whose .json lacks the totals
        json = _json.dumps(
            {
                "batchId": 0,
                "name": "score-x",
                "durationMs": {"triggerExecution": 2000},
                "sources": [
                    {"description": "DeltaSource[a]", "numInputRows": 300, "processedRowsPerSecond": 150.0},
                    {"description": "DeltaSource[b]", "numInputRows": 100, "processedRowsPerSecond": 50.0},
                ],
            }
        )

    p = as_dict(Progress())
    assert p["numInputRows"] == 400 and p["processedRowsPerSecond"] == 200.0
    assert "batch 0: 400 rows in 2.0s (200 rows/s)" in batch_line(p)
    local = {"batchId": 1, "numInputRows": 7, "sources": [{"numInputRows": 3}]}
    assert as_dict(local)["numInputRows"] == 7  # a local session's own total is kept
