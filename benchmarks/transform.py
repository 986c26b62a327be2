"""Benchmark: lakectl bronze -> silver -> gold against DuckDB running the equivalent SQL on the same files,
and an incremental gold refresh after 1% new events against a full refresh. Prints ONE JSON document.
`spark_floor_bronze_to_gold_s` is a second baseline from the same run: the least Spark + Delta work that
produces the same gold from the same bronze (see `spark_floor`).

    python benchmarks/transform.py                 # default size, < 3 minutes here
    python benchmarks/transform.py --events 2000000 --days 30

The DuckDB SQL below is also the independent reference the aggregate tests compare gold with
(tests/spark/test_aggregate.py), so it mirrors the documented gold definitions (docs/aggregate.md),
not lakectl's code.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "event_time",
    "customer_id",
    "session_id",
    "product_id",
    "price",
    "quantity",
    "review_text",
    "rating",
    "device",
    "country",
)

# Silver as the contract defines it, from the landing JSON: valid records only (what bronze + silver
# quarantine), one row per event_id, enriched with the customer segment and product category.
SILVER_SQL = """
CREATE OR REPLACE TABLE raw AS
SELECT * FROM read_json({events}, format='newline_delimited', ignore_errors=true, columns={columns});
CREATE OR REPLACE TABLE customers AS SELECT * FROM read_json({customers}, format='newline_delimited');
CREATE OR REPLACE TABLE products AS SELECT * FROM read_json({products}, format='newline_delimited');
CREATE OR REPLACE TABLE typed AS
SELECT event_id, event_type, TRY_CAST(event_time AS TIMESTAMPTZ) AS ts, customer_id, session_id, product_id,
       TRY_CAST(price AS DOUBLE) AS price, TRY_CAST(quantity AS INTEGER) AS quantity,
       TRY_CAST(rating AS INTEGER) AS rating,
       (price IS NOT NULL AND TRY_CAST(price AS DOUBLE) IS NULL) OR (quantity IS NOT NULL AND TRY_CAST(quantity AS INTEGER) IS NULL)
         OR (rating IS NOT NULL AND TRY_CAST(rating AS INTEGER) IS NULL) AS type_mismatch
FROM raw;
CREATE OR REPLACE TABLE silver AS
SELECT DISTINCT ON (event_id)
       t.event_id, t.event_type, t.ts AS event_time, CAST(t.ts AS DATE) AS event_date,
       date_trunc('hour', t.ts) AS event_hour, t.customer_id, t.session_id, t.product_id, t.price, t.quantity,
       CASE WHEN t.event_type = 'purchase' THEN t.price * t.quantity ELSE 0.0 END AS revenue, t.rating,
       c.segment, p.category
FROM typed t
LEFT JOIN (SELECT DISTINCT ON (customer_id) customer_id, segment FROM customers) c USING (customer_id)
LEFT JOIN (SELECT DISTINCT ON (product_id) product_id, category FROM products) p USING (product_id)
WHERE t.event_id IS NOT NULL AND trim(t.event_id) <> ''
  AND t.event_type IN ('page_view', 'click', 'add_to_cart', 'purchase', 'review')
  AND t.ts IS NOT NULL AND NOT t.type_mismatch AND t.customer_id IS NOT NULL
  AND (t.event_type NOT IN ('add_to_cart', 'purchase') OR t.price IS NOT NULL)
  AND (t.event_type <> 'review' OR t.rating IS NOT NULL)
ORDER BY t.event_id;
"""

MONEY = "DECIMAL(18,2)"
GOLD_SQL: dict[str, str] = {
    "gold.customer_behavior_daily": f"""
SELECT customer_id, event_date, count(*) AS events,
       count_if(event_type = 'page_view') AS views, count_if(event_type = 'click') AS clicks,
       count_if(event_type = 'add_to_cart') AS carts, count_if(event_type = 'purchase') AS purchases,
       CAST(coalesce(sum(CAST(revenue AS {MONEY})), 0) AS {MONEY}) AS revenue,
       count_if(event_type = 'review') AS reviews,
       avg(CASE WHEN event_type = 'review' THEN CAST(rating AS DOUBLE) END) AS avg_rating
FROM silver GROUP BY customer_id, event_date""",
    "gold.product_performance_daily": f"""
SELECT product_id, event_date, coalesce(max(category), 'unknown') AS category,
       count_if(event_type = 'page_view') AS views, count_if(event_type = 'click') AS clicks,
       count_if(event_type = 'add_to_cart') AS carts, count_if(event_type = 'purchase') AS purchases,
       coalesce(sum(CASE WHEN event_type = 'purchase' THEN quantity END), 0) AS units,
       CAST(coalesce(sum(CAST(revenue AS {MONEY})), 0) AS {MONEY}) AS revenue,
       CASE WHEN count_if(event_type = 'page_view') > 0
            THEN CAST(count_if(event_type = 'purchase') AS DOUBLE) / count_if(event_type = 'page_view') END AS conversion_rate,
       avg(CASE WHEN event_type = 'review' THEN CAST(rating AS DOUBLE) END) AS avg_rating
FROM silver GROUP BY product_id, event_date""",
    "gold.funnel_daily": """
WITH s AS (
  SELECT event_date, coalesce(segment, 'unknown') AS segment, session_id, any_value(customer_id) AS customer_id,
         bool_or(event_type = 'page_view') AS v, bool_or(event_type = 'click') AS c,
         bool_or(event_type = 'add_to_cart') AS k, bool_or(event_type = 'purchase') AS p
  FROM silver GROUP BY 1, 2, 3),
r AS (SELECT event_date, segment, customer_id, v AS view, v AND c AS click, v AND c AND k AS cart,
             v AND c AND k AND p AS purchase FROM s),
g AS (
  SELECT event_date, segment, count(*) AS sessions, count_if(view) AS view_sessions, count_if(click) AS click_sessions,
         count_if(cart) AS cart_sessions, count_if(purchase) AS purchase_sessions,
         count(DISTINCT customer_id) AS customers,
         count(DISTINCT CASE WHEN purchase THEN customer_id END) AS purchasing_customers
  FROM r GROUP BY 1, 2)
SELECT *,
  CASE WHEN view_sessions > 0 THEN CAST(click_sessions AS DOUBLE) / view_sessions END AS view_to_click_rate,
  CASE WHEN click_sessions > 0 THEN CAST(cart_sessions AS DOUBLE) / click_sessions END AS click_to_cart_rate,
  CASE WHEN cart_sessions > 0 THEN CAST(purchase_sessions AS DOUBLE) / cart_sessions END AS cart_to_purchase_rate,
  CASE WHEN view_sessions > 0 THEN CAST(purchase_sessions AS DOUBLE) / view_sessions END AS view_to_purchase_rate
FROM g""",
    "gold.kpi_hourly": f"""
SELECT event_hour, count(*) AS events,
       CAST(coalesce(sum(CAST(revenue AS {MONEY})), 0) AS {MONEY}) AS revenue,
       count(DISTINCT CASE WHEN event_type = 'purchase' THEN session_id END) AS orders,
       count(DISTINCT customer_id) AS active_customers
FROM silver GROUP BY event_hour""",
    "gold.sentiment_daily": """
SELECT event_date, coalesce(category, 'unknown') AS category, count(*) AS reviews,
       avg(CAST(rating AS DOUBLE)) AS avg_rating, CAST(NULL AS DOUBLE) AS avg_score,
       count_if(rating >= 4) AS positive, count_if(rating <= 2) AS negative,
       count(*) - count_if(rating >= 4) - count_if(rating <= 2) AS neutral,
       0 AS scored_reviews, 'rating' AS source, CAST(NULL AS VARCHAR) AS model_version
FROM silver WHERE event_type = 'review' GROUP BY 1, 2""",
}


def _list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def duckdb_silver(con: Any, landing: Path) -> None:
    """Build the `silver` table in DuckDB from the landing JSON files."""
    con.execute("SET TimeZone = 'UTC'")
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in EVENT_COLUMNS) + "}"
    sql = SILVER_SQL.format(
        events=_list(sorted(str(p) for p in (landing / "events").glob("*.jsonl"))),
        customers=_list(sorted(str(p) for p in (landing / "customers").glob("*.jsonl"))),
        products=_list(sorted(str(p) for p in (landing / "products").glob("*.jsonl"))),
        columns=columns,
    )
    con.execute(sql)


def _canonical(value: Any) -> Any:
    """One comparable form for both engines: timestamps as UTC text, dates as ISO text."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _sorted(rows: list[Any]) -> list[tuple]:
    canon = [tuple(_canonical(v) for v in r) for r in rows]
    return sorted(canon, key=lambda r: tuple("" if v is None else str(v) for v in r))


def duckdb_gold(con: Any) -> dict[str, list[tuple]]:
    """Every gold table computed by DuckDB from `silver`, as sorted canonical row tuples."""
    out = {}
    for table, sql in GOLD_SQL.items():
        rows = con.execute(sql).fetchall()
        out[table] = _sorted(rows)
    return out


def duckdb_gold_columns(con: Any) -> dict[str, list[str]]:
    return {table: [d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description] for table, sql in GOLD_SQL.items()}


def spark_gold(spark: Any, settings: Any, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every gold table as written by lakectl, as sorted canonical row tuples (timestamps rendered in UTC)."""
    from pyspark.sql import functions as F

    out = {}
    for table in GOLD_SQL:
        df = spark.read.format("delta").load(settings.table(table).path)
        if columns:
            df = df.select(*columns[table])
        # Render timestamps in Spark (session time zone UTC), so the Python process' zone cannot shift them.
        df = df.select(*(F.date_format(c, "yyyy-MM-dd HH:mm:ss").alias(c) if t == "timestamp" else F.col(c) for c, t in df.dtypes))
        out[table] = _sorted(df.collect())
    return out


def spark_floor(spark: Any, settings: Any, out_dir: Path) -> float:
    """Seconds for the least Spark + Delta work that turns the same bronze into the same gold tables: lakectl's
    pure silver projections, the quarantine rules as one filter, dropDuplicates, one overwrite per table. No
    metrics, quarantine, exactly-once MERGE or incremental state. It is what this machine allows the engine
    itself, next to which lakectl's own overhead and DuckDB's speed can be read."""
    from pyspark.sql import functions as F

    from lakectl.pipeline.gold import builders as gold
    from lakectl.pipeline.silver import cleaning as silver
    from lakectl.pipeline.silver.expectations import rules_for

    t0 = time.perf_counter()
    bronze = spark.read.format("delta").load(settings.table("bronze.events").path)
    customers = spark.read.format("delta").load(settings.table("silver.customers").path)
    products = spark.read.format("delta").load(settings.table("silver.products").path)
    rows = silver.to_silver(silver.enrich(silver.clean_events(bronze), customers, products), "floor")
    keep = [
        F.coalesce(F.expr(r.expr), F.lit(False))
        for r in rules_for(settings.transform.expectations, "silver.events")
        if r.action in ("quarantine", "drop", "fail")
    ]
    for cond in keep:
        rows = rows.where(cond)
    rows.dropDuplicates(["event_id"]).write.format("delta").mode("overwrite").save(str(out_dir / "silver"))
    events = spark.read.format("delta").load(str(out_dir / "silver"))
    for spec in gold.GOLD:
        built = spec.build(events, None) if spec.table == "gold.sentiment_daily" else spec.build(events)
        built.write.format("delta").mode("overwrite").save(str(out_dir / spec.table))
    return round(time.perf_counter() - t0, 3)


# --- the benchmark ----------------------------------------------------------------------------------------


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the base data (default 100000)")
    parser.add_argument("--days", type=int, default=10, help="days the base data spans (default 10)")
    parser.add_argument("--increment", type=float, default=0.01, help="new events as a share of --events, on a new day")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument(
        "--silver-partition-by", default="", help="silver.events partition columns, comma-separated (default none, as configs/lakectl.yaml)"
    )
    args = parser.parse_args(argv)

    import duckdb

    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    work = Path(tempfile.mkdtemp(prefix="lakectl-bench-transform-"))
    partition_by = [c for c in args.silver_partition_by.split(",") if c]
    # silver.events layout: unpartitioned as shipped; --silver-partition-by event_date measures the
    # alternative (incremental reads only touched days, but the dedupe MERGE gets slower)
    settings = settings_from_dict(
        {"storage": {"root": str(work / "lake")}, "tables": {"silver.events": {"partition_by": partition_by}}}, "<bench>"
    )
    landing = settings.storage.landing_dir
    start = datetime(2026, 1, 1, tzinfo=UTC)
    customers, products = max(50, args.events // 50), max(20, min(2000, args.events // 500))
    n_inc = max(1, int(args.events * args.increment))
    common = {"customers": customers, "products": products, "bad_fraction": 0.01, "duplicate_fraction": 0.01}
    out: dict[str, Any] = {
        "benchmark": "transform",
        "events": args.events,
        "days": args.days,
        "increment_events": n_inc,
        "silver_partition_by": partition_by,
        "cpus": os.cpu_count(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 1),
    }
    try:
        ctx = JobContext(settings=settings)
        _, gen_s = _timed(
            lambda: run_job(ctx, "generate", {"events": args.events, "seed": 1, "start": start.isoformat(), "days": args.days, **common})
        )
        run_job(
            ctx,
            "generate",
            {
                "events": n_inc,
                "seed": 2,
                "start": (start + timedelta(days=args.days)).isoformat(),
                "days": 1,
                "out": str(work / "increment"),
                **common,
            },
        )
        _, out["spark_session_start_s"] = _timed(lambda: ctx.spark)

        # lakectl: landing -> bronze -> silver -> gold
        _, ingest_s = _timed(lambda: run_job(ctx, "ingest", {"source": "files"}))
        _, transform_s = _timed(lambda: run_job(ctx, "transform", {}))
        agg, aggregate_s = _timed(lambda: run_job(ctx, "aggregate", {}))
        lakectl_b2g = round(transform_s + aggregate_s, 3)
        out["lakectl"] = {
            "ingest_s": ingest_s,
            "transform_s": transform_s,
            "aggregate_full_s": aggregate_s,
            "bronze_to_gold_s": lakectl_b2g,
            "landing_to_gold_s": round(ingest_s + lakectl_b2g, 3),
        }

        # DuckDB: the same files -> silver -> gold, tables persisted in a database file
        def duck() -> Any:
            con = duckdb.connect(str(work / "bench.duckdb"))
            duckdb_silver(con, landing)
            for table, sql in GOLD_SQL.items():
                con.execute(f"CREATE OR REPLACE TABLE {table.replace('.', '_')} AS {sql}")
            return con

        con, duck_s = _timed(duck)
        out["duckdb_landing_to_gold_s"] = duck_s
        out["ratio_bronze_to_gold_vs_duckdb"] = round(lakectl_b2g / duck_s, 2)
        out["ratio_landing_to_gold_vs_duckdb"] = round(out["lakectl"]["landing_to_gold_s"] / duck_s, 2)
        expected, columns = duckdb_gold(con), duckdb_gold_columns(con)
        con.close()
        out["gold_equals_duckdb"] = spark_gold(ctx.spark, settings, columns) == expected
        out["spark_floor_bronze_to_gold_s"] = spark_floor(ctx.spark, settings, work / "floor")
        out["ratio_spark_floor_vs_duckdb"] = round(out["spark_floor_bronze_to_gold_s"] / duck_s, 2)
        out["ratio_bronze_to_gold_vs_spark_floor"] = round(lakectl_b2g / out["spark_floor_bronze_to_gold_s"], 2)

        # +increment on a new day: incremental aggregate vs a full refresh of the same silver
        for f in (work / "increment" / "events").glob("*.jsonl"):
            shutil.copy(f, landing / "events" / f.name)
        _, inc_ingest_s = _timed(lambda: run_job(ctx, "ingest", {"source": "files"}))
        _, inc_transform_s = _timed(lambda: run_job(ctx, "transform", {}))
        inc, inc_s = _timed(lambda: run_job(ctx, "aggregate", {}))
        incremental_rows = spark_gold(ctx.spark, settings)
        full, full_s = _timed(lambda: run_job(ctx, "aggregate", {"full_refresh": True}))
        out["increment"] = {
            "ingest_s": inc_ingest_s,
            "transform_s": inc_transform_s,
            "aggregate_incremental_s": inc_s,
            "aggregate_full_refresh_s": full_s,
            "ratio_incremental_vs_full": round(inc_s / full_s, 3),
            "modes": inc.metrics["modes"],
            "changed_rows": inc.rows_read,
            "per_table_s": {d["table"]: d["seconds"] for d in inc.details},
            "writes": {d["table"]: d["write"] for d in inc.details},
            "full_per_table_s": {d["table"]: d["seconds"] for d in full.details},
            "incremental_equals_full_refresh": spark_gold(ctx.spark, settings) == incremental_rows,
        }
        out["targets"] = {
            "bronze_to_gold_le_2x_duckdb": out["ratio_bronze_to_gold_vs_duckdb"] <= 2.0,
            "incremental_le_0.1x_full": out["increment"]["ratio_incremental_vs_full"] <= 0.1,
        }
        out["generate_s"] = gen_s
        out["kpi"] = agg.metrics.get("kpi")
        out["load_avg_1m_at_end"] = round(os.getloadavg()[0], 1)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            out["work_dir"] = str(work)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
