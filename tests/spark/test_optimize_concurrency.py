"""OPTIMIZE next to concurrent writers, and the advisor's measured file skipping, on real Delta tables."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job

pytestmark = [pytest.mark.spark]


def make_ctx(spark, tmp_path: Path, tables: dict | None = None) -> JobContext:
    settings = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}, "tables": tables or {}}, "<test>")
    return JobContext(settings=settings, _spark=spark)


def test_optimize_while_a_stream_appends_loses_and_duplicates_nothing(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"bronze.events": {"optimize": {"zorder_by": ["value"]}}})
    path = ctx.settings.table("bronze.events").path
    query = (
        spark.readStream.format("rate-micro-batch")
        .option("rowsPerBatch", 200)
        .load()
        .writeStream.format("delta")
        .option("checkpointLocation", str(tmp_path / "cp"))
        .trigger(processingTime="200 milliseconds")
        .start(path)
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(query.recentProgress) < 4:
            time.sleep(0.2)
        results = [run_job(ctx, "optimize", {"tables": ["bronze.events"], "backoff_s": 0.2}) for _ in range(2)]
        time.sleep(1)
    finally:
        query.stop()
    df = spark.read.format("delta").load(path)
    row = df.selectExpr("count(*) AS n", "count(DISTINCT value) AS d", "max(value) AS hi", "min(value) AS lo").first()
    assert row["n"] == row["d"] == row["hi"] + 1 and row["lo"] == 0  # every value 0..hi exactly once
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("operation").collect()
    assert sum(r[0] == "OPTIMIZE" for r in history) == 2
    assert sum(r[0] == "STREAMING UPDATE" for r in history) >= 4
    assert all(r.details[0]["files_removed"] >= 1 for r in results)


def test_conflicting_rewrites_are_retried_and_reported(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"silver.events": {"optimize": {"zorder_by": ["customer_id"]}}})
    path = ctx.settings.table("silver.events").path
    for b in range(6):
        spark.range(b * 500, b * 500 + 500).selectExpr("id", "concat('c', cast(id % 97 as string)) AS customer_id", "0 AS n").repartition(
            2
        ).write.format("delta").mode("append").save(path)
    stop = threading.Event()
    updates: list[int] = []

    def rewrite_everything() -> None:  # each UPDATE removes every file OPTIMIZE is reading
        session = spark.newSession()
        while not stop.is_set() and len(updates) < 6:
            try:
                session.sql(f"UPDATE delta.`{path}` SET n = n + 1").collect()
            except Exception as exc:  # the UPDATE can lose to OPTIMIZE too: try again, as a writer would
                if "CONCURRENT" not in str(exc).upper():
                    raise
                continue
            updates.append(1)

    writer = threading.Thread(target=rewrite_everything, daemon=True)
    writer.start()
    try:
        while not updates:
            time.sleep(0.05)
        result = run_job(ctx, "optimize", {"tables": ["silver.events"], "max_attempts": 12, "backoff_s": 0.5})
    finally:
        stop.set()
        writer.join(120)
    d = result.details[0]
    assert d["conflicts_retried"] >= 1 and d["conflicts"][0].startswith(("DELTA_CONCURRENT", "Concurrent"))
    assert result.metrics["conflicts_retried"] == d["conflicts_retried"]
    assert any("retried after" in w for w in result.warnings)
    row = (
        spark.read.format("delta").load(path).selectExpr("count(*) AS n", "count(DISTINCT id) AS d", "min(n) AS lo", "max(n) AS hi").first()
    )
    assert row["n"] == row["d"] == 3000 and row["lo"] == row["hi"] == len(updates)


def test_advisor_recommends_the_filtered_column_with_measured_skipping(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"silver.events": {"optimize": {"predicates": ["customer_id = 'c17'"], "target_file_size": "16k"}}})
    path = ctx.settings.table("silver.events").path
    for b in range(8):
        spark.range(b * 1000, b * 1000 + 1000).selectExpr(
            "id", "concat('c', cast((id * 7919) % 400 as string)) AS customer_id", "id % 3 AS kind", "uuid() AS token"
        ).repartition(2).write.format("delta").mode("append").save(path)
    v = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"]
    result = run_job(ctx, "optimize", {"tables": ["silver.events"], "advise": True})
    d = result.details[0]
    assert d["action"] == "advised" and d["candidates"][0]["column"] == "customer_id"
    assert d["recommend_zorder_by"][0] == "customer_id"
    assert "token" not in [c["column"] for c in d["candidates"]]  # unique per row: useless to cluster by
    assert d["ideal_files"] > 1
    configured = d["predicates"][0]
    assert configured["predicate"] == "customer_id = 'c17'"
    assert configured["files_read_now"] == configured["files_now"] == 16  # ids spread over every file
    assert configured["files_after"] == d["ideal_files"]
    assert configured["files_read_after"] <= 2 and configured["fraction_after"] < configured["fraction_now"]
    assert spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"] == v  # advice changes nothing
    assert not list((tmp_path / "lake" / "tmp").glob("advise-*"))  # scratch layout removed

    small = make_ctx(spark, tmp_path / "small", {"silver.events": {"optimize": {"predicates": ["customer_id = 'c17'"]}}})
    spark.read.format("delta").load(path).write.format("delta").save(small.settings.table("silver.events").path)
    tiny = run_job(small, "optimize", {"tables": ["silver.events"], "advise": True}).details[0]  # 1 GiB target: one file
    assert tiny["ideal_files"] == 1 and "recommend_zorder_by" not in tiny and "no layout can read fewer files" in tiny["recommendation"]
