"""Benchmark `lakectl optimize --zorder customer_id` on a table written by streaming micro-batches.

A streaming query writes --rows events in --batches micro-batches of --files-per-batch small files each;
the named baseline is that small-file layout, measured in the same run. Then the optimize job runs
in-process exactly as `lakectl optimize bench.events --zorder customer_id --target-file-size ...`
does, and the point query `customer_id = <one customer>` is measured again.

A small target file size (default 1m) is used so that the ideal file count ceil(bytes / target) is
more than one file at these small sizes. Prints ONE JSON document.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=500_000, help="events to write (10M for the full-size run)")
    ap.add_argument("--batches", type=int, default=10, help="streaming micro-batches")
    ap.add_argument("--files-per-batch", type=int, default=40, help="small files each micro-batch writes")
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--target-file-size", default="1m")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of the point query (median reported)")
    ap.add_argument("--root", default=None, help="working folder (default: a temporary one, removed afterwards)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lakectl-bench-optimize-") as tmp:
        print(json.dumps(run(args, Path(args.root or tmp)), indent=2))


def run(args: argparse.Namespace, root: Path) -> dict:
    from lakectl.config import LocalTarget, settings_from_dict
    from lakectl.core.units import parse_size
    from lakectl.engine.context import JobContext
    from lakectl.engine.local import get_session
    from lakectl.jobs import run_job
    from lakectl.lake.delta import detail
    from lakectl.maintenance.file_stats import files_read

    settings = settings_from_dict({"storage": {"root": str(root)}}, "<benchmark>")
    spark = get_session(settings, LocalTarget(shuffle_partitions=4))
    handle = settings.table("bench.events")
    target = parse_size(args.target_file_size)
    timings: dict[str, float] = {}

    t = time.perf_counter()
    source = root / "source"
    (
        spark.range(args.rows, numPartitions=args.batches)
        .selectExpr(
            "id AS event_id",
            f"concat('c', lpad(cast(pmod(xxhash64(id), {args.customers}) as string), 7, '0')) AS customer_id",
            "timestamp_seconds(1767225600 + id) AS event_time",
            "element_at(array('page_view','click','add_to_cart','purchase'), cast(pmod(id, 4) + 1 as int)) AS event_type",
            "round(pmod(xxhash64(id, 1), 10000) / 100.0, 2) AS price",
            "concat('s', cast(id div 20 as string)) AS session_id",
        )
        .write.parquet(str(source))
    )
    schema = spark.read.parquet(str(source)).schema
    # one source file per micro-batch, spread over files_per_batch output files: many small files, as a
    # stream with frequent triggers and several writers leaves them
    query = (
        spark.readStream.schema(schema)
        .option("maxFilesPerTrigger", 1)
        .parquet(str(source))
        .repartition(args.files_per_batch)
        .writeStream.format("delta")
        .option("checkpointLocation", str(root / "checkpoints" / "bench"))
        .trigger(availableNow=True)
        .start(handle.path)
    )
    query.awaitTermination()
    timings["write_stream_s"] = round(time.perf_counter() - t, 2)
    micro_batches = len(query.recentProgress)

    probe = spark.read.format("delta").load(handle.path).select("customer_id").first()[0]
    point = f"customer_id = '{probe}'"

    def measure() -> dict:
        df = spark.read.format("delta").load(handle.path).where(point)
        scan = files_read(df, "jvm")  # warm-up run, and the scan metrics (a local session: from the JVM's plan)
        rows = len(df.collect())
        seconds = []
        for _ in range(args.repeats):
            s = time.perf_counter()
            spark.read.format("delta").load(handle.path).where(point).collect()
            seconds.append(time.perf_counter() - s)
        d = detail(spark, handle.ref)
        return {
            "files": int(d["numFiles"]),
            "bytes": int(d["sizeInBytes"]),
            "query_files_read": scan["files"],
            "query_bytes_read": scan["bytes"],
            "query_rows": rows,
            "query_s": round(statistics.median(seconds), 4),
        }

    before = measure()
    ctx = JobContext(settings=settings, _spark=spark)
    t = time.perf_counter()
    result = run_job(ctx, "optimize", {"tables": ["bench.events"], "zorder": ["customer_id"], "target_file_size": args.target_file_size})
    timings["optimize_s"] = round(time.perf_counter() - t, 2)
    after = measure()

    ideal_files = math.ceil(after["bytes"] / target)
    bytes_per_row = after["bytes"] / args.rows
    ideal_files_read = max(1, math.ceil(after["query_rows"] * bytes_per_row / target))
    speedup = before["query_s"] / after["query_s"] if after["query_s"] else None
    return {
        "benchmark": "optimize",
        "command": f"lakectl optimize bench.events --zorder customer_id --target-file-size {args.target_file_size}",
        "rows": args.rows,
        "micro_batches": micro_batches,
        "target_file_size_bytes": target,
        "point_query": point,
        "baseline": {"name": "small files written by streaming micro-batches (before OPTIMIZE)", **before},
        "after": after,
        "ideal": {"files": ideal_files, "files_read": ideal_files_read},
        "optimize_report": {k: result.details[0].get(k) for k in ("files_removed", "files_added", "conflicts_retried")},
        "ratios": {
            "files_after_over_ideal": round(after["files"] / ideal_files, 3),
            "files_read_after_over_ideal": round(after["query_files_read"] / ideal_files_read, 3),
            "query_speedup": round(speedup, 2) if speedup else None,
        },
        "targets_met": {
            "files_after_le_1.2x_ideal": after["files"] <= 1.2 * ideal_files,
            "files_read_le_2x_ideal": after["query_files_read"] <= 2 * ideal_files_read,
            "query_ge_5x_faster": bool(speedup and speedup >= 5),
        },
        "timings": timings,
        "machine": {"cpus": __import__("os").cpu_count(), "python": sys.version.split()[0]},
    }


if __name__ == "__main__":
    main()
