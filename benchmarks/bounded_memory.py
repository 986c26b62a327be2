"""Benchmark: a file backlog several times the driver's memory, ingested and transformed by lakectl with
`driver_memory: 1g`, with the peak RSS of each command's process tree (Python + its JVM) sampled from /proc.
The baseline beside it is the backlog itself: bronze and silver row counts must equal what was generated.
Prints ONE JSON document.

    python benchmarks/bounded_memory.py                       # backlog 5x the driver memory (about 5 GiB)
    python benchmarks/bounded_memory.py --times 0.2 --keep     # a quick check of the script itself
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def tree_memory(root: int) -> dict[int, tuple[str, int, int]]:
    """Each process of a tree (a process and all its descendants) from /proc: pid -> (kind, VmRSS, VmHWM) in bytes.
    kind is `jvm` (its executable is java), `driver` (the root, Python) or `worker` (what the JVM starts: Python
    workers). A java child of a java process is left out: that is the JVM starting a process (posix_spawn with
    CLONE_VM, before the exec), which shows the parent's own memory under a thread's name and would count the
    JVM twice."""
    children: dict[int, list[int]] = {}
    memory: dict[int, tuple[str, int, int]] = {}
    exe: dict[int, str] = {}
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
            exe[pid] = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
        except OSError:
            continue
        parent[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent[pid], []).append(pid)
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmRSS" in fields:
            kind = "jvm" if exe[pid] == "java" else ("driver" if pid == root else "worker")
            memory[pid] = (kind, int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024)
    tree, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in memory and not (exe.get(pid) == "java" and exe.get(parent.get(pid, 0)) == "java"):
            tree[pid] = memory[pid]
        stack.extend(children.get(pid, []))
    return tree


def run_sampled(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a lakectl command, sampling its process tree every 0.5 s: its --json result, the peak of the tree's summed
    RSS, and per kind of process (jvm, driver, workers) the largest sampled sum and each process's own high-water mark
    (VmHWM, which the kernel keeps, so a spike between samples still counts)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak, by_kind, hwm = 0, {"jvm": 0, "driver": 0, "worker": 0}, {}
    while proc.poll() is None:
        tree = tree_memory(proc.pid)
        peak = max(peak, sum(rss for _, rss, _ in tree.values()))
        for kind in by_kind:
            by_kind[kind] = max(by_kind[kind], sum(rss for k, rss, _ in tree.values() if k == kind))
        for pid, (kind, _, high) in tree.items():
            hwm[pid] = (kind, max(high, hwm.get(pid, (kind, 0))[1]))
        time.sleep(0.5)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[3:])} failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    mib = lambda n: round(n / 2**20)  # noqa: E731
    return {
        "result": json.loads(out),
        "peak_rss_bytes": peak,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mib_by_kind": {k: mib(v) for k, v in by_kind.items()},
        "high_water_mib": {
            f"{kind}:{pid}": mib(high) for pid, (kind, high) in sorted(hwm.items()) if kind != "worker" or high > 64 * 2**20
        },
    }


def delta_rows(path: str) -> int:
    """Rows of a Delta table from its log's file statistics (no scan)."""
    from deltalake import DeltaTable

    from lakectl.lake.deltars import column_lists  # deltalake 1.x returns an arro3 table

    return int(sum(column_lists(DeltaTable(path).get_add_actions(flatten=True))["num_records"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver-memory", default="1g")
    ap.add_argument("--times", type=float, default=5.0, help="backlog size as a multiple of the driver memory")
    ap.add_argument("--keep", action="store_true", help="keep the lake folder")
    a = ap.parse_args()

    from lakectl.config import LocalTarget
    from lakectl.core.units import parse_size
    from lakectl.datagen.events import generate
    from lakectl.lake.batch_size import micro_batch_bytes

    memory = parse_size(a.driver_memory) or 0
    target_bytes = int(memory * a.times)
    work = Path(tempfile.mkdtemp(prefix="lakectl-bounded-"))
    landing = work / "lake" / "landing"
    start = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        probe = generate(work / "probe", 20_000, seed=1, start=start)
        per_event = sum(Path(f).stat().st_size for f in (work / "probe" / "events").glob("*.jsonl")) / probe.events
        shutil.rmtree(work / "probe")
        events = int(target_bytes / per_event * 1.01) + 1
        t0 = time.perf_counter()
        g = generate(landing, events, seed=7, start=start, days=3, bad_fraction=0.001, file_rows=250_000)
        generate_s = time.perf_counter() - t0
        backlog = sum(f.stat().st_size for f in (landing / "events").glob("*.jsonl"))

        config = work / "lakectl.yaml"
        config.write_text(
            json.dumps(
                {
                    "targets": {"local": {"kind": "local", "driver_memory": a.driver_memory}},
                    "storage": {"root": str(work / "lake")},
                }
            )
        )
        env = {**os.environ, "LAKECTL_LEDGER": "off", "PYTHONPATH": str(REPO)}
        base = [sys.executable, "-m", "lakectl", "--config", str(config), "--json"]
        ingest = run_sampled(base + ["ingest", "--source", "files"], env)
        print(
            json.dumps(
                {
                    "ingest_done": {k: v for k, v in ingest.items() if k != "result"},  # kept if transform fails
                    "batches": ingest["result"].get("batches"),
                }
            ),
            file=sys.stderr,
            flush=True,
        )
        transform = run_sampled(base + ["transform"], env)

        lake = work / "lake" / "tables"
        bronze_rows, quarantine_rows = delta_rows(str(lake / "bronze" / "events")), delta_rows(str(lake / "bronze" / "quarantine"))
        silver_rows = delta_rows(str(lake / "silver" / "events"))
        silver_q = delta_rows(str(lake / "silver" / "quarantine")) if (lake / "silver" / "quarantine").exists() else 0
        print(
            json.dumps(
                {
                    "driver_memory": a.driver_memory,
                    "backlog_bytes": backlog,
                    "backlog_x_driver_memory": round(backlog / memory, 2),
                    "batch_budget_bytes": micro_batch_bytes(None, LocalTarget(driver_memory=a.driver_memory)),
                    "events_generated": g.events,
                    "valid_events": g.valid_events,
                    "bad_records": g.bad_records,
                    "generate_s": round(generate_s, 1),
                    "ingest": {
                        "seconds": ingest["seconds"],
                        "peak_rss_mib": round(ingest["peak_rss_bytes"] / 2**20),
                        "peak_rss_mib_by_kind": ingest["peak_rss_mib_by_kind"],
                        "high_water_mib": ingest["high_water_mib"],
                        "batches": ingest["result"].get("batches"),
                        "rows_written": ingest["result"].get("rows_written"),
                        "rows_quarantined": ingest["result"].get("rows_quarantined"),
                    },
                    "transform": {
                        "seconds": transform["seconds"],
                        "peak_rss_mib": round(transform["peak_rss_bytes"] / 2**20),
                        "peak_rss_mib_by_kind": transform["peak_rss_mib_by_kind"],
                        "high_water_mib": transform["high_water_mib"],
                        "batches": transform["result"].get("batches"),
                        "rows_written": transform["result"].get("rows_written"),
                    },
                    "bronze_rows": bronze_rows,
                    "bronze_quarantine_rows": quarantine_rows,
                    "silver_rows": silver_rows,
                    "silver_quarantine_rows": silver_q,
                    "bronze_equals_input": bronze_rows == g.valid_events and quarantine_rows == g.bad_records,
                    "silver_plus_quarantine_equals_bronze": silver_rows + silver_q == bronze_rows,
                    "lake": str(work) if a.keep else None,
                },
                indent=2,
            )
        )
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
