"""Benchmark: `lakectl query` on a small gold table, answered by DuckDB over delta-rs (the default
for local tables) against the baseline of the same command forced onto Spark (`--engine spark`,
the only engine before). Both are cold subprocesses, as an operator runs them. Prints one JSON document.

    python benchmarks/query.py --hours 720 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

SQL = (
    "SELECT date_trunc('day', event_hour) AS day, sum(events) AS events, sum(revenue) AS revenue FROM gold.kpi_hourly GROUP BY 1 ORDER BY 1"
)


def build(root: Path, hours: int) -> None:
    from datetime import datetime, timedelta
    from decimal import Decimal

    import pyarrow as pa
    from deltalake import write_deltalake

    start = datetime(2026, 1, 1, tzinfo=UTC)
    table = pa.table(
        {
            "event_hour": pa.array([start + timedelta(hours=h) for h in range(hours)], pa.timestamp("us", tz="UTC")),
            "events": pa.array([100 + h % 24 * 10 for h in range(hours)], pa.int64()),
            "revenue": pa.array([Decimal(h % 97) + Decimal("0.50") for h in range(hours)], pa.decimal128(18, 2)),
        }
    )
    write_deltalake(str(root / "tables" / "gold" / "kpi_hourly"), table)


def timed(cmd: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (user + system of the child) and the JSON result."""
    before, started = os.times(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    wall, after = time.perf_counter() - started, os.times()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])}... failed: {proc.stderr[-2000:]}")
    cpu = after.children_user - before.children_user + after.children_system - before.children_system
    return wall, cpu, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=720, help="rows of gold.kpi_hourly (one per hour)")
    parser.add_argument("--runs", type=int, default=3, help="DuckDB runs (median); Spark runs once per --spark-runs")
    parser.add_argument("--spark-runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        build(root, args.hours)
        config = Path(tmp) / "lakectl.yaml"
        config.write_text(f"storage:\n  root: {root}\n")
        base = [sys.executable, "-m", "lakectl", "--config", str(config), "query", SQL, "--limit", "0", "--json"]
        duck = [timed(base) for _ in range(args.runs)]
        spark = [timed(base + ["--engine", "spark"]) for _ in range(args.spark_runs)]
    assert duck[0][2]["rows"] == spark[0][2]["rows"], "the engines disagree"
    print(
        json.dumps(
            {
                "rows": args.hours,
                "result_rows": len(duck[0][2]["rows"]),
                "duckdb_wall_s": round(statistics.median(d[0] for d in duck), 2),
                "duckdb_cpu_s": round(statistics.median(d[1] for d in duck), 2),
                "spark_wall_s": round(statistics.median(s[0] for s in spark), 2),
                "spark_cpu_s": round(statistics.median(s[1] for s in spark), 2),
                "speedup_wall": round(statistics.median(s[0] for s in spark) / statistics.median(d[0] for d in duck), 1),
                "load_average_1m": round(os.getloadavg()[0], 1),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
