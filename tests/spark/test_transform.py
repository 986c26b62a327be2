"""transform on generated data with malformed records mixed in: generate -> ingest -> transform, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakectl.config import Expectation, default_expectations
from lakectl.jobs import run_job

pytestmark = [pytest.mark.spark]


DROP_RULE = Expectation(name="no_test_sessions", expr="session_id IS NULL OR session_id NOT LIKE 'test-%'", action="drop")

# Records that pass bronze's parse but fail a silver rule: event_id -> the rule they must fail.
SILVER_BAD = {
    "x-neg-price": ({"event_type": "purchase", "price": -5.0, "quantity": 1}, "price_range"),
    "x-rating-9": ({"event_type": "review", "rating": 9, "review_text": "meh"}, "rating_range"),
    "x-qty-0": ({"event_type": "add_to_cart", "price": 3.5, "quantity": 0}, "quantity_range"),
    "x-no-customer": ({"event_type": "page_view", "customer_id": "  "}, "customer_id_present"),
    "x-future": ({"event_type": "click", "event_time": "2099-01-01T00:00:00Z"}, "event_time_not_future"),
}
DROPPED = {"x-test-session": {"event_type": "page_view", "session_id": "test-42"}}
# Valid but messy: silver normalises them. event_id -> (payload, expected device, expected country)
MESSY = {
    "x-ipad": ({"device": " iPad ", "country": " de"}, "tablet", "DE"),
    "x-android": ({"device": "ANDROID", "country": "gb "}, "mobile", "GB"),
    "x-fridge": ({"device": "smart-fridge", "country": "US"}, "other", "US"),
}


def _line(event_id: str, **fields) -> str:
    base = {
        "event_id": event_id,
        "event_type": "page_view",
        "event_time": "2026-11-01T10:00:00Z",
        "customer_id": "C0000001",
        "session_id": "s1",
        "product_id": "P00001",
        "price": None,
        "quantity": None,
        "review_text": None,
        "rating": None,
        "device": "desktop",
        "country": "US",
    }
    base.update(fields)
    return json.dumps(base)


def _pipeline(ctx, events: int = 1500) -> dict:
    gen = run_job(ctx, "generate", {"events": events, "bad_fraction": 0.05, "duplicate_fraction": 0.05, "seed": 7})
    lines = [_line(i, **f) for i, (f, _) in SILVER_BAD.items()]
    lines += [_line(i, **f) for i, f in DROPPED.items()]
    lines += [_line(i, **f) for i, (f, _, _) in MESSY.items()]
    lines.append(lines[-1])  # an exact duplicate
    extra = Path(ctx.settings.storage.landing_dir) / "events" / "events-extra.jsonl"
    extra.write_text("\n".join(lines) + "\n")
    ingest = run_job(ctx, "ingest", {"source": "files"})
    return {"gen": gen.metrics, "ingest": ingest}


def _read(ctx, key: str):
    return ctx.spark.read.format("delta").load(ctx.settings.table(key).path)


def test_silver_holds_distinct_valid_events_and_every_bronze_row_is_accounted_for(ctx):
    from pyspark.sql import functions as F

    ctx.settings.transform.expectations = [*default_expectations(), DROP_RULE]
    run = _pipeline(ctx)
    result = run_job(ctx, "transform", {})
    bronze_rows = run["ingest"].rows_written
    assert {"silver.events", "silver.quarantine", "ops.dq_metrics"} <= set(result.tables_written)

    # silver == the distinct valid events: the generator's valid events + the valid extras
    silver = _read(ctx, "silver.events")
    s = silver.agg(
        F.count("*").alias("n"),
        F.countDistinct("event_id").alias("ids"),
        F.sum(F.when(F.col("device").isin("mobile", "desktop", "tablet", "other"), 0).otherwise(1)).alias("bad_device"),
        F.sum(F.when(F.col("country").rlike("^[A-Z]{2}$"), 0).otherwise(1)).alias("bad_country"),
        F.sum(F.when(F.col("segment").isNull(), 1).otherwise(0)).alias("unenriched"),
        F.sum(
            F.when((F.col("event_type") == "purchase") & (F.abs(F.col("revenue") - F.col("price") * F.col("quantity")) > 1e-9), 1)
            .when((F.col("event_type") != "purchase") & (F.col("revenue") != 0), 1)
            .otherwise(0)
        ).alias("bad_revenue"),
    ).first()
    expected = run["gen"]["valid_events"] + len(MESSY)
    assert s["n"] == s["ids"] == expected == result.rows_written
    assert (s["bad_device"], s["bad_country"], s["bad_revenue"]) == (0, 0, 0)
    assert s["unenriched"] == 0  # every generated customer is in silver.customers; the extras use C0000001
    messy = {r["event_id"]: (r["device"], r["country"]) for r in silver.where(F.col("event_id").startswith("x-")).collect()}
    assert messy == {i: (d, c) for i, (_, d, c) in MESSY.items()}

    # quarantine keeps the row and the rule it failed, with the run id
    q = {r["event_id"]: r for r in _read(ctx, "silver.quarantine").collect()}
    assert set(q) == set(SILVER_BAD)
    raw = {r["event_id"]: r["raw"] for r in _read(ctx, "bronze.events").where(F.col("event_id").isin(*SILVER_BAD)).collect()}
    for event_id, (_, rule) in SILVER_BAD.items():
        assert rule in q[event_id]["rules"]
        record = json.loads(q[event_id]["record"])
        assert record["event_id"] == event_id
        assert record["raw"] == raw[event_id]  # the payload as ingested, though transform drops it before the dedup
        assert q[event_id]["run_id"] == ctx.run_id
    assert result.rows_quarantined == len(SILVER_BAD)

    # conservation: every bronze row is in silver, in quarantine, or in a documented count
    m = result.metrics
    assert m["dropped_by_rule"] == {"no_test_sessions": len(DROPPED)}
    assert bronze_rows == result.rows_read
    assert bronze_rows == (
        result.rows_written
        + result.rows_quarantined
        + m["rows_dropped"]
        + m["duplicates_in_batch"]
        + m["duplicates_existing"]
        + m["already_quarantined"]
    )
    assert m["duplicates_in_batch"] == run["gen"]["duplicates"] + 1

    # reviews carry the label derived from the rating
    reviews = _read(ctx, "silver.reviews").collect()
    assert len(reviews) == m["reviews_written"] == run["gen"]["event_types"]["review"]
    for r in reviews:
        assert r["label"] == (1 if r["rating"] >= 4 else 0 if r["rating"] <= 2 else None)

    # one ops.dq_metrics row per rule for this run, consistent with the result
    rows = _read(ctx, "ops.dq_metrics").where(F.col("run_id") == ctx.run_id).collect()
    dims = {(r["table"], r["rule"], r["action"], r["rows_failed"]) for r in rows if r["rule"] == "dimension_conflicts"}
    assert dims == {(k, "dimension_conflicts", "latest_by_arrival", 0) for k in ("silver.customers", "silver.products")}
    assert m["dimension_conflicts"] == {"customers": 0, "products": 0}
    dq = {r["rule"]: r for r in rows if r["rule"] != "dimension_conflicts"}
    assert set(dq) == {e.name for e in ctx.settings.transform.expectations}
    checked = bronze_rows - m["duplicates_in_batch"]
    for _, rule in SILVER_BAD.values():
        assert dq[rule]["rows_failed"] >= 1
    assert all(r["rows_checked"] == checked and r["rows_passed"] + r["rows_failed"] == checked for r in dq.values())
    assert dq["no_test_sessions"]["rows_failed"] == len(DROPPED)

    # re-running changes nothing: the stream has nothing new, a full batch re-read inserts nothing
    versions = {k: _history_len(ctx, k) for k in ("silver.events", "silver.quarantine", "silver.reviews")}
    again = run_job(ctx, "transform", {})
    assert (again.rows_read, again.rows_written, again.rows_quarantined) == (0, 0, 0)
    assert versions == {k: _history_len(ctx, k) for k in versions}
    batch = run_job(ctx, "transform", {"batch": True})
    assert batch.rows_read == bronze_rows
    assert (batch.rows_written, batch.rows_quarantined) == (0, 0)
    assert batch.metrics["duplicates_existing"] == expected
    assert batch.metrics["already_quarantined"] == len(SILVER_BAD)
    assert _read(ctx, "silver.events").count() == expected
    assert _read(ctx, "silver.quarantine").count() == len(SILVER_BAD)


def _history_len(ctx, key: str) -> int:
    from lakectl.lake.delta import table_version

    return table_version(ctx.spark, ctx.settings.table(key).path)


def test_fail_rule_stops_the_run_before_anything_is_committed(ctx):
    from lakectl.core.errors import JobFailed
    from lakectl.lake.delta import is_delta_table

    ctx.settings.transform.expectations = [
        *default_expectations(),
        Expectation(name="no_reviews_allowed", expr="event_type <> 'review'", action="fail"),
    ]
    run_job(ctx, "generate", {"events": 400, "seed": 3})
    run_job(ctx, "ingest", {"source": "files"})
    with pytest.raises(JobFailed, match="no_reviews_allowed"):
        run_job(ctx, "transform", {})
    # The tables are created (empty) before the first batch; the failing batch commits no row to any of them.
    for key in ("silver.events", "silver.reviews", "silver.quarantine", "silver.customers", "silver.products", "ops.dq_metrics"):
        path = ctx.settings.table(key).path
        assert is_delta_table(ctx.spark, path) and ctx.spark.read.format("delta").load(path).count() == 0, key


def test_invalid_rule_is_a_config_error_naming_it(ctx):
    from lakectl.core.errors import ConfigError

    ctx.settings.transform.expectations = [Expectation(name="typo", expr="no_such_column > 1")]
    run_job(ctx, "generate", {"events": 50, "seed": 1})
    run_job(ctx, "ingest", {"source": "files"})
    with pytest.raises(ConfigError, match="typo"):
        run_job(ctx, "transform", {})


def test_dry_run_prints_the_plan_and_writes_nothing(ctx):
    from lakectl.lake.delta import is_delta_table

    run_job(ctx, "generate", {"events": 200, "seed": 5})
    ingest = run_job(ctx, "ingest", {"source": "files"})
    plan = run_job(ctx, "transform", {"dry_run": True})
    assert plan.dry_run and plan.metrics["pending_bronze_rows"] == ingest.rows_written
    assert {d["rule"] for d in plan.details} == {e.name for e in ctx.settings.transform.expectations}
    assert "silver.events" in plan.tables_written
    assert not is_delta_table(ctx.spark, ctx.settings.table("silver.events").path)
    done = run_job(ctx, "transform", {})
    assert done.rows_read == ingest.rows_written
    assert run_job(ctx, "transform", {"dry_run": True}).metrics["pending_bronze_rows"] == 0


def _customers(ctx, name: str, rows: list[dict], mtime: float) -> None:
    import os

    f = Path(ctx.settings.storage.landing_dir) / "customers" / name
    f.write_text("".join(json.dumps({"country": "US", "signup_date": "2026-01-02", **r}) + "\n" for r in rows))
    os.utime(f, (mtime, mtime))


def _segment(ctx, customer_id: str) -> str:
    return _read(ctx, "silver.customers").where(f"customer_id = '{customer_id}'").first()["segment"]


def test_dimension_conflicts_latest_by_arrival_counted_in_output_and_dq(ctx):
    """Two rows for one customer in one file: the later line wins and is counted as a conflict (transform's
    output and ops.dq_metrics); a newer file that changes a customer silver holds wins over the older file."""
    import time

    run_job(ctx, "generate", {"events": 60, "seed": 11})
    run_job(ctx, "ingest", {"source": "files"})
    now = time.time()
    _customers(
        ctx,
        "customers-a.jsonl",
        [{"customer_id": "C9000001", "segment": "retail"}, {"customer_id": "C9000001", "segment": "vip"}],
        now - 60,
    )
    first = run_job(ctx, "transform", {})
    assert first.metrics["dimension_conflicts"] == {"customers": 1, "products": 0}
    assert _segment(ctx, "C9000001") == "vip"
    dq = _read(ctx, "ops.dq_metrics").where("rule = 'dimension_conflicts'").collect()
    assert [(r["table"], r["action"], r["rows_failed"]) for r in dq if r["rows_failed"]] == [("silver.customers", "latest_by_arrival", 1)]
    _customers(ctx, "customers-b.jsonl", [{"customer_id": "C9000001", "segment": "gold"}], now)
    second = run_job(ctx, "transform", {})
    assert _segment(ctx, "C9000001") == "gold" and second.metrics["customers_upserted"] >= 1
    assert second.metrics["dimension_conflicts"]["customers"] == 1  # the old file still contradicts itself; counted when merged


def test_dimension_conflicts_latest_by_timestamp_and_fail(ctx):
    from lakectl.core.errors import JobFailed
    from lakectl.lake.delta import is_delta_table

    run_job(ctx, "generate", {"events": 60, "seed": 12})
    run_job(ctx, "ingest", {"source": "files"})
    ctx.settings.transform.dimension_conflicts = "fail"
    rows = [
        {"customer_id": "C9000002", "segment": "vip", "updated_at": "2026-11-02T00:00:00Z"},
        {"customer_id": "C9000002", "segment": "retail", "updated_at": "2026-11-01T00:00:00Z"},
    ]
    _customers(ctx, "customers-t.jsonl", rows, 1_700_000_000)
    with pytest.raises(JobFailed, match=r"C9000002.*customers-t\.jsonl"):
        run_job(ctx, "transform", {})
    assert not is_delta_table(ctx.spark, ctx.settings.table("silver.customers").path)  # refused before any write
    ctx.settings.transform.dimension_conflicts = "latest_by_timestamp"
    done = run_job(ctx, "transform", {})
    assert _segment(ctx, "C9000002") == "vip" and done.metrics["dimension_conflicts"]["customers"] == 1
