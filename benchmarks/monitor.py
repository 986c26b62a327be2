"""Benchmark: `lakectl monitor tables` (a cold subprocess, must not start a JVM) against the
baseline of a cold Python subprocess that only reads the same tables' history and file listing
with delta-rs. Prints one JSON document.

    python benchmarks/monitor.py --events 20000 --commits 20

lakectl is byte-compiled first, as pip does when it installs the wheel: an editable checkout under
PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run, which no installed
copy does. The first lakectl run parses the YAML config and caches it (lakectl/core/cache.py); it is
reported apart as `lakectl_first_run_s`, and the median is taken over the runs after it.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLES = ["bronze.events", "bronze.quarantine", "silver.events", "silver.quarantine", "gold.kpi_hourly"]

BASELINE = """
import sys
from deltalake import DeltaTable
for path in sys.argv[1:]:
    dt = DeltaTable(path)
    dt.version(); dt.history(25)
    actions = dt.get_add_actions(flatten=True)
"""


def build(root: Path, events: int, commits: int) -> list[str]:
    import pyarrow as pa
    from deltalake import write_deltalake

    paths = []
    per_commit = max(1, events // commits)
    for key in TABLES:
        schema, name = key.split(".")
        path = root / "tables" / schema / name
        for c in range(commits):
            ids = [f"{key}-{c}-{i}" for i in range(per_commit)]
            write_deltalake(
                str(path),
                pa.table(
                    {
                        "event_id": ids,
                        "customer_id": [f"c{i % 97}" for i in range(per_commit)],
                        "price": [float(i % 50) for i in range(per_commit)],
                    }
                ),
                mode="append",
            )
        paths.append(str(path))
    return paths


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed: {out.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="rows per table, spread over the commits")
    parser.add_argument("--commits", type=int, default=20, help="commits (files) per table")
    parser.add_argument("--repeat", type=int, default=11, help="runs of each side; the median is reported")
    args = parser.parse_args()
    import lakectl

    compileall.compile_dir(str(Path(lakectl.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="lakectl-bench-monitor-") as tmp:
        root = Path(tmp)
        paths = build(root / "lake", args.events, args.commits)
        cfg = root / "lakectl.yaml"
        cfg.write_text(f"storage:\n  root: {root / 'lake'}\n")
        env = {**os.environ, "LAKECTL_CONFIG": str(cfg), "LAKECTL_CACHE": str(root / "cache")}
        lakectl_cmd = [sys.executable, "-m", "lakectl", "monitor", "tables", "--json"]
        baseline_cmd = [sys.executable, "-c", BASELINE, *paths]
        first_s = timed(lakectl_cmd, env, root)  # parses the YAML and fills the config cache
        lakectl_s, baseline_s = [], []
        for _ in range(args.repeat):  # interleaved so load changes hit both sides alike
            lakectl_s.append(timed(lakectl_cmd, env, root))
            baseline_s.append(timed(baseline_cmd, env, root))
        imports = subprocess.run(
            [sys.executable, "-X", "importtime", *lakectl_cmd[1:]], env=env, cwd=root, capture_output=True, text=True
        ).stderr
        jvm_free = not any(line.rstrip().endswith(("| pyspark", "| py4j")) for line in imports.splitlines())
        med_l, med_b = statistics.median(lakectl_s), statistics.median(baseline_s)
        print(
            json.dumps(
                {
                    "benchmark": "monitor tables",
                    "tables_present": len(paths),
                    "tables_listed": len(__import__("lakectl.config", fromlist=["x"]).Settings().table_keys()),
                    "rows_per_table": args.events // args.commits * args.commits,
                    "commits_per_table": args.commits,
                    "repeat": args.repeat,
                    "lakectl_monitor_tables_s": round(med_l, 3),
                    "lakectl_first_run_s": round(first_s, 3),
                    "baseline": "cold python subprocess: delta-rs DeltaTable(path).version()/history(25)/get_add_actions() per present table",
                    "baseline_s": round(med_b, 3),
                    "ratio": round(med_l / med_b, 2),
                    "target_ratio": 1.5,
                    "lakectl_runs_s": [round(x, 3) for x in lakectl_s],
                    "baseline_runs_s": [round(x, 3) for x in baseline_s],
                    "imports_pyspark": not jvm_free,
                    "load_average": os.getloadavg()[0],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
