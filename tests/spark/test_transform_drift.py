"""Schema drift in bronze (a new column, a changed type) under each transform.schema_drift mode."""

from __future__ import annotations

import json

import pytest

from lakectl.jobs import run_job
from lakectl.pipeline.silver.cleaning import EXPECTED_BRONZE

pytestmark = [pytest.mark.spark]


def _drifted_bronze(ctx) -> None:
    """bronze.events as a newer producer might leave it: price arrives as a string, plus a `coupon` column."""
    from pyspark.sql import functions as F

    types = dict(EXPECTED_BRONZE, price="string", coupon="string")
    ddl = ", ".join(f"`{c}` {t}" for c, t in types.items() if c != "kafka_headers")
    rows = [
        {"event_id": "d1", "event_type": "add_to_cart", "price": "12.5", "quantity": "2", "coupon": "SAVE10"},
        {"event_id": "d2", "event_type": "page_view", "price": "N/A", "coupon": None},
        {"event_id": "d3", "event_type": "page_view", "price": None, "coupon": "WELCOME"},
    ]
    base = {
        "event_time": "2026-11-01T10:00:00Z",
        "customer_id": "C1",
        "session_id": "s",
        "product_id": "P1",
        "device": "desktop",
        "country": "US",
        "raw": "{}",
        "ingest_time": "2026-11-01T10:01:00Z",
    }
    df = (
        ctx.spark.createDataFrame([json.dumps({**base, **r}) for r in rows], "string")
        .select(F.from_json("value", ddl).alias("j"))
        .select("j.*")
    )
    df = df.select(*[(F.lit(None) if c == "kafka_headers" else F.col(c)).cast(t).alias(c) for c, t in types.items()])
    df.write.format("delta").save(ctx.settings.table("bronze.events").path)


def _silver(ctx) -> dict[str, dict]:
    return {r["event_id"]: r.asDict() for r in ctx.spark.read.format("delta").load(ctx.settings.table("silver.events").path).collect()}


def test_fail_mode_names_the_drifted_columns_and_writes_nothing(ctx):
    from lakectl.core.errors import JobFailed
    from lakectl.lake.delta import is_delta_table

    _drifted_bronze(ctx)
    with pytest.raises(JobFailed, match=r"coupon.*price|price.*coupon") as err:
        run_job(ctx, "transform", {"schema_drift": "fail"})
    assert "schema_drift" in err.value.hint
    assert not is_delta_table(ctx.spark, ctx.settings.table("silver.events").path)


def test_rescue_mode_keeps_unknown_and_unconvertible_values_in_rescued(ctx):
    _drifted_bronze(ctx)
    ctx.settings.transform.schema_drift = "rescue"
    result = run_job(ctx, "transform", {"batch": True})
    assert result.rows_written == 3 and result.metrics["schema_drift"]["new"] == {"coupon": "string"}
    rows = _silver(ctx)
    assert "coupon" not in rows["d1"]
    assert rows["d1"]["price"] == 12.5 and rows["d1"]["revenue"] == 0.0
    assert json.loads(rows["d1"]["_rescued"]) == {"coupon": "SAVE10"}
    assert rows["d2"]["price"] is None and json.loads(rows["d2"]["_rescued"]) == {"price": "N/A"}
    assert json.loads(rows["d3"]["_rescued"]) == {"coupon": "WELCOME"}


def test_add_mode_evolves_silver_with_the_new_column(ctx):
    _drifted_bronze(ctx)
    result = run_job(ctx, "transform", {"schema_drift": "add"})
    assert result.rows_written == 3
    rows = _silver(ctx)
    assert {k: v["coupon"] for k, v in rows.items()} == {"d1": "SAVE10", "d2": None, "d3": "WELCOME"}
    assert rows["d1"]["price"] == 12.5
    assert json.loads(rows["d2"]["_rescued"]) == {"price": "N/A"}  # a type cannot evolve in place: the value is kept
