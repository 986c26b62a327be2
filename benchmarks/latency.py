"""Latency of the short commands an operator runs, each a cold `lakectl` process, next to a floor measured in the same
run: a Python process that opens the same Delta logs with delta-rs (what a no-JVM answer cannot go below).

The lake is built first (generate + run, on Spark, not timed); then every command is timed `--runs` times,
interleaved so load hits all alike, and reported as a median with whether it imported pyspark (a JVM start).
Targets (issue 28): nothing-to-do and dry runs <= 1.5 s and <= 3x the floor; a SQL syntax error <= 0.5 s.
`--ml` also trains a model and scores (slow: the encoder) so `score` with nothing to score is timed too.

Usage: python benchmarks/latency.py [--events N] [--runs N] [--ml]
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
from pathlib import Path

# Runs lakectl and says at exit whether pyspark was imported (no pyspark: no JVM could start).
WATCH = (
    "import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write("
    "'\\nPYSPARK_IMPORTED\\n' if 'pyspark' in sys.modules else '\\nno pyspark\\n')); "
    "sys.argv = ['lakectl'] + sys.argv[1:]; runpy.run_module('lakectl', run_name='__main__')"
)
FLOOR = (
    "import sys; from deltalake import DeltaTable\n"
    "for p in sys.argv[1:]:\n"
    "    t = DeltaTable(p); t.version(); t.metadata(); len(t.file_uris())\n"
)
COMMANDS = {  # name -> (arguments, expected exit code, target seconds)
    "ingest_nothing_new": (["ingest", "--json"], 0, 1.5),
    "transform_nothing_new": (["transform", "--json"], 0, 1.5),
    "aggregate_nothing_new": (["aggregate", "--json"], 0, 1.5),
    "run_nothing_new": (["run", "--json"], 0, 1.5),
    "transform_dry_run": (["transform", "--dry-run", "--json"], 0, 1.5),
    "optimize_dry_run": (["optimize", "--dry-run", "--json"], 0, 1.5),
    "optimize_vacuum_dry_run": (["optimize", "--vacuum", "--dry-run", "--json"], 0, 1.5),
    "query_syntax_error": (["query", "SELECT * FROM gold.kpi_hourly WHERE"], 2, 0.5),
    "query_silver_events_count": (["query", "SELECT count(*) AS n FROM silver.events", "--json"], 0, None),
}
ML_COMMANDS = {"score_nothing_new": (["score", "--json"], 0, 1.5), "score_dry_run": (["score", "--dry-run", "--json"], 0, 1.5)}


def lakectl(config: Path, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-c", WATCH, "--config", str(config), *args], capture_output=True, text=True)
    if check is not None and proc.returncode != check:
        raise SystemExit(f"lakectl {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - started, proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ml", action="store_true", help="train and score first, and time score too (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "lake"
        config = Path(d) / "lakectl.yaml"
        config.write_text(f"storage:\n  root: {root}\n")
        build_started = time.perf_counter()
        lakectl(config, "generate", "--events", str(args.events))
        lakectl(config, "run")
        commands = dict(COMMANDS)
        if args.ml:
            lakectl(config, "train")
            lakectl(config, "score")
            commands.update(ML_COMMANDS)
        build_s = time.perf_counter() - build_started

        tables = [str(p.parent) for p in sorted((root / "tables").glob("*/*/_delta_log"))]
        runs: dict[str, list[float]] = {name: [] for name in ["delta_rs_floor", *commands]}
        jvm: dict[str, bool] = {}
        env_cmd = {name: [sys.executable, "-c", WATCH, "--config", str(config), *a] for name, (a, _, _) in commands.items()}
        env_cmd["delta_rs_floor"] = [sys.executable, "-c", FLOOR, *tables]
        for _ in range(args.runs):
            for name, cmd in env_cmd.items():
                took, proc = timed(cmd)
                expected = 0 if name == "delta_rs_floor" else commands[name][1]
                if proc.returncode != expected:
                    raise SystemExit(f"{name} exited {proc.returncode}: {proc.stderr[-2000:]}")
                runs[name].append(took)
                if name != "delta_rs_floor":
                    jvm[name] = jvm.get(name, False) or "PYSPARK_IMPORTED" in proc.stderr
    floor = statistics.median(runs["delta_rs_floor"])
    figures = {}
    for name, (_, _, target) in commands.items():
        median = statistics.median(runs[name])
        entry = {"median_s": round(median, 3), "ratio_vs_floor": round(median / floor, 2), "pyspark_imported": jvm[name]}
        if target is not None:
            entry["target_s"] = target
            entry["meets_target"] = median <= target and (target < 1.0 or median <= 3 * floor)
        figures[name] = entry
    print(
        json.dumps(
            {
                "benchmark": "latency",
                "events": args.events,
                "runs": args.runs,
                "build_s": round(build_s, 1),
                "baseline": "delta_rs_floor",
                "delta_rs_floor_s": round(floor, 3),
                "tables_in_floor": len(tables),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "commands": figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
