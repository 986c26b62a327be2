"""Benchmark the pipeline (`lakectl run`: ingest -> transform -> aggregate) over Spark Connect on a real
multi-process cluster (scripts/spark-cluster-local: master + workers + Connect server on loopback)
against the baseline `lakectl run` on the local target, in the same session over the same input.

Each side is the CLI in its own process (`lakectl [--target cluster] run --json`), so the figures
include session start-up (a JVM for local, a gRPC channel for Connect). The gold tables of both runs
are compared row for row. A figure, not a target. Prints ONE JSON document.

    python benchmarks/connect.py --events 20000
    python benchmarks/connect.py --url sc://127.0.0.1:15002   # an already running server
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLD = ("customer_behavior_daily", "product_performance_daily", "funnel_daily", "kpi_hourly", "sentiment_daily")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--file-rows", type=int, default=5_000)
    ap.add_argument("--url", default=None, help="use this Connect server instead of starting a cluster")
    ap.add_argument("--root", default=None, help="working folder (default: a temporary one, removed afterwards)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lakectl-bench-connect-") as tmp:
        print(json.dumps(run(args, Path(args.root or tmp)), indent=2))


def lakectl(root: Path, args: list[str], url: str | None) -> tuple[dict, float]:
    env = {
        **os.environ,
        "LAKECTL_ROOT": str(root),
        "LAKECTL_CONFIG": str(REPO / "configs" / "lakectl.yaml"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    target = ["--target", "cluster"] if url else []
    if url:
        env["SPARK_REMOTE"] = url
    else:
        env.pop("SPARK_REMOTE", None)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", *target, *args, "--json"], env=env, cwd=root.parent, capture_output=True, text=True, timeout=3600
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"lakectl {' '.join(target + args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout), seconds


def gold_rows(root: Path) -> dict[str, list]:
    from deltalake import DeltaTable

    out = {}
    for name in GOLD:
        table = DeltaTable(str(root / "tables" / "gold" / name)).to_pyarrow_table()
        cols = sorted(table.column_names)
        out[name] = sorted(map(repr, zip(*(table.column(c).to_pylist() for c in cols))))
    return out


def run(args: argparse.Namespace, root: Path) -> dict:
    from lakectl.datagen.events import generate

    local, remote = root / "local", root / "connect"
    generate(local / "landing", args.events, seed=11, start=datetime(2026, 11, 2, tzinfo=UTC), bad_fraction=0.01, file_rows=args.file_rows)
    shutil.copytree(local / "landing", remote / "landing")
    cluster_env = None
    url = args.url
    cluster_start_s = None
    if url is None:
        cluster_env = {
            **os.environ,
            "SPARK_CLUSTER_DATA_DIR": str(root / "cluster"),
            "PYTHON": sys.executable,
            "SPARK_CLUSTER_MASTER_PORT": str(free_port()),
            "SPARK_CONNECT_PORT": str(free_port()),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        started = time.perf_counter()
        proc = subprocess.run(
            [str(REPO / "scripts" / "spark-cluster-local"), "start"], env=cluster_env, capture_output=True, text=True, timeout=900
        )
        if proc.returncode != 0:
            sys.exit(f"spark-cluster-local start failed:\n{proc.stderr[-2000:]}")
        cluster_start_s = round(time.perf_counter() - started, 1)
        url = proc.stdout.strip().splitlines()[-1]
    try:
        base, base_s = lakectl(local, ["run"], None)
        conn, conn_s = lakectl(remote, ["run"], url)
    finally:
        if cluster_env is not None:
            subprocess.run([str(REPO / "scripts" / "spark-cluster-local"), "stop"], env=cluster_env, capture_output=True, timeout=300)
    stages = lambda r: {d["job"]: round(d.get("duration_s", 0.0), 1) for d in r["details"]}  # noqa: E731
    return {
        "benchmark": "connect",
        "events": args.events,
        "cluster": None if args.url else {"workers": 2, "worker_cores": 1, "worker_memory": "1g", "start_s": cluster_start_s},
        "baseline_local_run_s": round(base_s, 1),
        "baseline_local_stages_s": stages(base),
        "connect_cluster_run_s": round(conn_s, 1),
        "connect_cluster_stages_s": stages(conn),
        "connect_vs_local": round(conn_s / base_s, 2),
        "rows": {
            "local": [base["rows_read"], base["rows_written"], base["rows_quarantined"]],
            "connect": [conn["rows_read"], conn["rows_written"], conn["rows_quarantined"]],
        },
        "gold_equal": gold_rows(local) == gold_rows(remote),
        "machine": {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 1)},
    }


if __name__ == "__main__":
    main()
