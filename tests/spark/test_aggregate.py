"""aggregate: gold equals an independent DuckDB computation over the landing files, re-runs change
nothing, and an incremental refresh after new events equals a full refresh exactly.

One lake is built for the module (generate -> ingest -> transform -> aggregate) and the tests run in
file order on it; the increment test comes last because it adds data.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark]

REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 4
EVENTS = 3000
CUSTOMERS, PRODUCTS = 60, 24


def _reference():
    spec = importlib.util.spec_from_file_location("bench_transform", REPO / "benchmarks" / "transform.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _reference()


def _transform(ctx) -> None:
    """bronze -> silver with the real transform job when it exists, else a minimal contract-following stand-in."""
    from lakectl.jobs import JOBS, run_job

    if "transform" in JOBS:
        result = run_job(ctx, "transform", {})
        assert result.status == "ok", result
        return
    _contract_silver(ctx)


def _contract_silver(ctx) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    spark, s = ctx.spark, ctx.settings
    landing = s.storage.landing_dir
    customers = (
        spark.read.json(str(landing / "customers"))
        .select("customer_id", "segment", F.to_date("signup_date").alias("signup_date"))
        .dropDuplicates(["customer_id"])
    )
    products = (
        spark.read.json(str(landing / "products"))
        .select("product_id", "category", "brand", F.col("list_price").cast("double"))
        .dropDuplicates(["product_id"])
    )
    bronze = spark.read.format("delta").load(s.table("bronze.events").path).dropDuplicates(["event_id"])
    silver = (
        bronze.join(customers, "customer_id", "left")
        .join(products, "product_id", "left")
        .select(
            "event_id",
            "event_type",
            "event_time",
            F.to_date("event_time").alias("event_date"),
            F.date_trunc("hour", "event_time").alias("event_hour"),
            "customer_id",
            "session_id",
            "product_id",
            "price",
            "quantity",
            F.when(F.col("event_type") == "purchase", F.col("price") * F.col("quantity")).otherwise(F.lit(0.0)).alias("revenue"),
            "review_text",
            "rating",
            F.lower(F.trim("device")).alias("device"),
            F.upper(F.trim("country")).alias("country"),
            "segment",
            "signup_date",
            "category",
            "brand",
            "list_price",
            "ingest_time",
            F.current_timestamp().alias("processed_time"),
            F.lit(ctx.run_id).alias("run_id"),
        )
    )
    path = s.table("silver.events").path
    if not DeltaTable.isDeltaTable(spark, path):
        silver.write.format("delta").option("delta.enableChangeDataFeed", "true").save(path)
        return
    (DeltaTable.forPath(spark, path).alias("t").merge(silver.alias("s"), "t.event_id = s.event_id").whenNotMatchedInsertAll().execute())


def _aggregate(ctx, **params):
    from lakectl.jobs import run_job

    return run_job(ctx, "aggregate", {"summary": False, **params})


def _versions(ctx) -> dict[str, int]:
    from lakectl.lake.delta import table_version

    return {t: table_version(ctx.spark, ctx.settings.table(t).path) for t in REF.GOLD_SQL}


def _duckdb_gold(landing: Path):
    import duckdb

    con = duckdb.connect()
    REF.duckdb_silver(con, landing)
    return REF.duckdb_gold(con), REF.duckdb_gold_columns(con)


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    root = tmp_path_factory.mktemp("aggregate-lake")
    settings = settings_from_dict({"storage": {"root": str(root / "lake")}}, "<test>")
    ctx = JobContext(settings=settings, _spark=spark)
    run_job(
        ctx,
        "generate",
        {
            "events": EVENTS,
            "seed": 7,
            "start": START.isoformat(),
            "days": DAYS,
            "bad_fraction": 0.01,
            "duplicate_fraction": 0.02,
            "customers": CUSTOMERS,
            "products": PRODUCTS,
        },
    )
    run_job(ctx, "ingest", {"source": "files"})
    _transform(ctx)
    first = _aggregate(ctx, summary=True)
    return ctx, first


def test_first_run_is_full_and_prints_kpis(lake):
    ctx, first = lake
    assert set(first.metrics["modes"].values()) == {"full"}
    assert first.tables_written == [d["job"] for d in first.details] and len(first.tables_written) > 1
    kpi = first.metrics["kpi"]
    # the last generated day, or the next one when a late session ran past midnight
    assert kpi["day"] in {(START + timedelta(days=d)).date().isoformat() for d in (DAYS - 1, DAYS)}
    assert kpi["revenue"] > 0 and kpi["orders"] > 0 and kpi["active_customers"] > 0
    assert 0 < kpi["conversion"] < 1
    # read from the gold files with delta-rs; the same figures as the Spark query over the same tables
    from lakectl.pipeline.gold.summary import kpi_summary_spark

    assert kpi == kpi_summary_spark(ctx)


def test_gold_equals_independent_duckdb_computation(lake):
    ctx, _ = lake
    expected, columns = _duckdb_gold(ctx.settings.storage.landing_dir)
    actual = REF.spark_gold(ctx.spark, ctx.settings, columns)
    for table in REF.GOLD_SQL:
        assert expected[table], f"{table}: reference is empty"
        assert actual[table] == expected[table], table


def test_rerun_changes_nothing(lake):
    ctx, _ = lake
    before = _versions(ctx)
    again = _aggregate(ctx)
    assert set(again.metrics["modes"].values()) == {"skip"}
    assert again.rows_written == 0 and again.tables_written == []  # nothing to do: "wrote" lists no table
    assert _versions(ctx) == before


def test_dry_run_plans_without_writing(lake):
    ctx, _ = lake
    before = _versions(ctx)
    plan = _aggregate(ctx, dry_run=True, full_refresh=True)
    assert plan.dry_run and set(plan.metrics["modes"].values()) == {"full"}
    assert _versions(ctx) == before


def test_model_scores_drive_sentiment_when_present(lake):
    ctx, _ = lake
    spark = ctx.spark
    from pyspark.sql import functions as F

    silver = spark.read.format("delta").load(ctx.settings.table("silver.events").path)
    reviews = silver.where("event_type = 'review'").select("event_id", "event_date", "category", "rating").collect()
    scored = reviews[::2]  # half the reviews get a model score whose label disagrees with the rating
    rows = [(r["event_id"], 0.9 if r["rating"] <= 3 else 0.1, 1 if r["rating"] <= 3 else 0, "m1") for r in scored]
    spark.createDataFrame(rows, "event_id string, score double, label int, model_version string").write.format("delta").save(
        ctx.settings.table("silver.review_scores").path
    )
    result = _aggregate(ctx)
    assert result.metrics["modes"]["gold.sentiment_daily"] == "full"
    assert result.metrics["modes"]["gold.kpi_hourly"] == "skip"

    by_id = {r[0]: r for r in rows}
    expected: dict[tuple, list[int]] = {}
    for r in reviews:
        key = (r["event_date"], r["category"] or "unknown")
        counts = expected.setdefault(key, [0, 0, 0, 0])  # positive, negative, scored, reviews
        if r["event_id"] in by_id:
            label = by_id[r["event_id"]][2]
            counts[0] += label == 1
            counts[1] += label == 0
            counts[2] += 1
        else:
            counts[0] += r["rating"] >= 4
            counts[1] += r["rating"] <= 2
        counts[3] += 1
    gold = spark.read.format("delta").load(ctx.settings.table("gold.sentiment_daily").path)
    got = {(g["event_date"], g["category"]): [g["positive"], g["negative"], g["scored_reviews"], g["reviews"]] for g in gold.collect()}
    assert got == expected
    sources = {g["source"] for g in gold.select("source").collect()}
    assert sources <= {"model", "mixed", "rating"} and "mixed" in sources | {"model"}
    assert gold.where(F.col("source") != "rating").where(F.col("model_version") != "m1").count() == 0


def test_export_writes_every_gold_table(lake, tmp_path):
    ctx, _ = lake
    result = _aggregate(ctx, export_format="csv", export_dir=str(tmp_path / "bi"))
    paths = result.metrics["export"]["paths"]
    assert len(paths) == len(REF.GOLD_SQL)
    # one TABLE.csv per table: no part-files, .crc or _SUCCESS for a BI tool to trip over
    assert sorted(p.name for p in (tmp_path / "bi").iterdir()) == sorted(Path(p).name for p in paths)
    assert all(p.endswith(".csv") for p in paths)
    lines = (tmp_path / "bi" / "kpi_hourly.csv").read_text().splitlines()
    expected_rows = ctx.spark.read.format("delta").load(ctx.settings.table("gold.kpi_hourly").path).count()
    assert lines[0].startswith("event_hour,events,revenue")
    assert len(lines) - 1 == expected_rows


def test_increment_replaces_only_touched_days_and_equals_full_refresh(lake, tmp_path):
    from lakectl.jobs import run_job

    ctx, _ = lake
    landing = ctx.settings.storage.landing_dir
    extra = tmp_path / "increment"
    # ~2% more events on a new day, for the same customers and products (only the event files are landed,
    # so the dimensions stay the ones silver was enriched with). A day later than the next one, which a
    # late session may already reach.
    run_job(
        ctx,
        "generate",
        {
            "events": EVENTS // 50,
            "seed": 99,
            "start": (START + timedelta(days=DAYS + 1)).isoformat(),
            "days": 1,
            "customers": CUSTOMERS,
            "products": PRODUCTS,
            "out": str(extra),
        },
    )
    for f in (extra / "events").glob("*.jsonl"):
        shutil.copy(f, landing / "events" / f.name)
    silver = lambda: ctx.spark.read.format("delta").load(ctx.settings.table("silver.events").path).count()  # noqa: E731
    silver_before = silver()
    run_job(ctx, "ingest", {"source": "files"})
    _transform(ctx)

    before = _versions(ctx)
    inc = _aggregate(ctx)
    assert inc.rows_read == silver() - silver_before > 0  # the new silver rows, once (not once per gold table)
    modes = inc.metrics["modes"]
    assert modes["gold.kpi_hourly"] == "incremental" and modes["gold.customer_behavior_daily"] == "incremental"
    details = {d["table"]: d for d in inc.details}
    # the new day (plus the next one if a late session ran past midnight) out of DAYS + 1 or 2
    assert 1 <= details["gold.kpi_hourly"]["touched_days"] <= 2
    # new days only: appended, no old row removed
    assert details["gold.kpi_hourly"]["written"] > 0 and details["gold.kpi_hourly"]["deleted"] == 0, str(details["gold.kpi_hourly"])
    assert {d["write"] for d in inc.details if d["mode"] == "incremental"} == {"append new days"}
    after = _versions(ctx)
    # one commit per incremental table
    assert all(after[t] - before[t] in (0, 1) for t in after if modes[t] == "incremental"), str(after)
    assert after["gold.kpi_hourly"] == before["gold.kpi_hourly"] + 1
    incremental = REF.spark_gold(ctx.spark, ctx.settings)

    full = _aggregate(ctx, full_refresh=True)
    assert set(full.metrics["modes"].values()) == {"full"}
    assert REF.spark_gold(ctx.spark, ctx.settings) == incremental

    # Still exactly the independent computation (sentiment aside: the test above added model scores).
    expected, columns = _duckdb_gold(landing)
    actual = REF.spark_gold(ctx.spark, ctx.settings, columns)
    for table in REF.GOLD_SQL:
        if table != "gold.sentiment_daily":
            assert actual[table] == expected[table], table


def test_late_and_removed_rows_replace_their_day_exactly(lake, tmp_path):
    """Changes to a day gold already holds: late events land on it and one customer's rows there are
    deleted from silver. Only that day is recomputed and replaced; gold equals a full refresh, and the
    customer keeps a row that day only if late events brought one."""
    from pyspark.sql import functions as F

    from lakectl.jobs import run_job

    ctx, _ = lake
    spark, silver_path = ctx.spark, ctx.settings.table("silver.events").path
    day = (START + timedelta(days=1)).date()
    customer = (
        spark.read.format("delta")
        .load(silver_path)
        .where(F.col("event_date") == day)
        .groupBy("customer_id")
        .count()
        .orderBy(F.desc("count"), "customer_id")
        .first()["customer_id"]
    )
    spark.sql(f"DELETE FROM delta.`{silver_path}` WHERE event_date = DATE'{day.isoformat()}' AND customer_id = '{customer}'")
    late = tmp_path / "late"
    run_job(
        ctx,
        "generate",
        {
            "events": 40,
            "seed": 7,
            "start": (START + timedelta(days=1)).isoformat(),
            "days": 1,
            "customers": CUSTOMERS,
            "products": PRODUCTS,
            "out": str(late),
        },
    )
    for f in (late / "events").glob("*.jsonl"):
        shutil.copy(f, ctx.settings.storage.landing_dir / "events" / f.name)
    run_job(ctx, "ingest", {"source": "files"})
    _transform(ctx)

    inc = _aggregate(ctx)
    assert set(inc.metrics["modes"].values()) == {"incremental"}, inc.metrics["modes"]
    details = {d["table"]: d for d in inc.details}
    assert details["gold.customer_behavior_daily"]["touched_days"] == 1
    assert details["gold.customer_behavior_daily"]["deleted"] > 0  # the day's old rows, replaced
    gold = spark.read.format("delta").load(ctx.settings.table("gold.customer_behavior_daily").path)
    expected = spark.read.format("delta").load(silver_path).where((F.col("event_date") == day) & (F.col("customer_id") == customer)).count()
    got = gold.where((F.col("event_date") == day) & (F.col("customer_id") == customer)).select("events").collect()
    assert [r["events"] for r in got] == ([expected] if expected else [])
    incremental = REF.spark_gold(spark, ctx.settings)

    _aggregate(ctx, full_refresh=True)
    assert REF.spark_gold(spark, ctx.settings) == incremental


def _land_day(ctx, tmp_path, name: str, day: int, events: int, seed: int) -> None:
    from lakectl.jobs import run_job

    out = tmp_path / name
    run_job(
        ctx,
        "generate",
        {
            "events": events,
            "seed": seed,
            "start": (START + timedelta(days=day)).isoformat(),
            "days": 1,
            "customers": CUSTOMERS,
            "products": PRODUCTS,
            "out": str(out),
        },
    )
    for f in (out / "events").glob("*.jsonl"):
        shutil.copy(f, ctx.settings.storage.landing_dir / "events" / f"{name}-{f.name}")
    run_job(ctx, "ingest", {"source": "files"})
    _transform(ctx)


def test_a_run_that_died_before_saving_its_state_does_not_count_a_day_twice(lake, tmp_path):
    """A run appends a new day, then 'dies' before recording it (its state file is put back). The
    next run must see the day in gold itself and replace it, not append it a second time."""
    from lakectl.pipeline.gold.refresh import state_path

    ctx, _ = lake
    _land_day(ctx, tmp_path, "crash", DAYS + 4, 60, 5)
    saved = state_path(ctx).read_text()
    first = _aggregate(ctx)
    assert {d["write"] for d in first.details if d["mode"] == "incremental"} == {"append new days"}
    state_path(ctx).write_text(saved)

    again = _aggregate(ctx)
    assert set(again.metrics["modes"].values()) == {"incremental"}, again.metrics["modes"]
    appended = {d["table"] for d in first.details if d["written"] > 0}
    assert "gold.kpi_hourly" in appended
    for d in again.details:
        if d["table"] in appended:  # found in the table: replaced, the same rows out and in
            assert d["write"] == "replace days" and d["deleted"] == d["written"] > 0, d
        else:  # nothing of that day there (no review that day, say): appending adds nothing either
            assert d["written"] == 0, d
    incremental = REF.spark_gold(ctx.spark, ctx.settings)
    _aggregate(ctx, full_refresh=True)
    assert REF.spark_gold(ctx.spark, ctx.settings) == incremental


def test_a_second_aggregate_is_refused_while_one_runs(lake):
    from lakectl.core.errors import CheckpointConflict
    from lakectl.lake.checkpoints import checkpoint_lock
    from lakectl.pipeline.gold.refresh import state_path

    ctx, _ = lake
    before = _versions(ctx)
    with checkpoint_lock(state_path(ctx).parent):
        with pytest.raises(CheckpointConflict, match="in use by pid"):
            _aggregate(ctx, full_refresh=True)
        assert _aggregate(ctx, dry_run=True).dry_run  # a plan only reads
    assert _versions(ctx) == before
