"""Benchmark: end-to-end freshness of `lakectl run --continuous` (produced -> bronze -> silver -> gold), next to
the floor measured in the same run: one Spark session doing only Kafka -> append to one Delta table at the
same trigger.

    python benchmarks/freshness.py --rate 2000 --seconds 180 --triggers '1 second' '10 seconds'

A producer writes events at a fixed rate into Kafka, each with its production time as `event_time`. A probe
reads, every 0.5 s, the newest event time each table reflects from its Delta log (lakectl.monitor.freshness,
the figure `monitor tables` reports) and records now - that time: with a steady producer, the lag of the
newest visible event is how long an event takes to become visible in that table. The first WARMUP_S of each
run are left out (JVM start, first batches). `bounded` compares the mean lag of the last third of the run
with the middle third. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "integration"))

WARMUP_S = 30.0
STAGES = {"bronze": "bronze.events", "silver": "silver.events", "gold": "gold.kpi_hourly"}

FLOOR = """
import sys
from lakectl.config import settings_from_dict
from lakectl.engine.local import get_session
bootstrap, topic, path, checkpoint, trigger = sys.argv[1:6]
settings = settings_from_dict({"storage": {"root": path + "-root"}}, "<floor>")
spark = get_session(settings, settings.target("local"))
(spark.readStream.format("kafka").option("kafka.bootstrap.servers", bootstrap).option("subscribe", topic)
 .option("startingOffsets", "earliest").load()
 .selectExpr("CAST(value AS STRING) AS value", "timestamp AS event_time")
 .writeStream.format("delta").option("checkpointLocation", checkpoint).trigger(processingTime=trigger)
 .start(path).awaitTermination())
"""


class Producer(threading.Thread):
    """`rate` events/s in 10 slices a second, each event's event_time its production time."""

    def __init__(self, bootstrap: str, topic: str, rate: int) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.rate = bootstrap, topic, rate
        self.sent, self.stop = 0, threading.Event()

    def run(self) -> None:
        from confluent_kafka import Producer as KafkaProducer

        from lakectl.datagen.events import iter_event_lines

        template = [json.loads(line) for line in iter_event_lines(5000, seed=7)]
        producer = KafkaProducer({"bootstrap.servers": self.bootstrap, "linger.ms": 20})
        per_slice, tick = max(1, self.rate // 10), time.monotonic()
        while not self.stop.is_set():
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            for _ in range(per_slice):
                event = dict(template[self.sent % len(template)], event_id=f"f-{self.sent}", event_time=now)
                producer.produce(self.topic, json.dumps(event).encode())
                self.sent += 1
            producer.poll(0)
            tick += 0.1
            time.sleep(max(0.0, tick - time.monotonic()))
        producer.flush(30)


def probe(settings, keys: dict[str, str], seconds: float) -> dict[str, list[tuple[float, float]]]:
    """(elapsed s, lag s) every 0.5 s per stage."""
    from lakectl.monitor.freshness import lag_seconds, newest_event

    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in keys}
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        for stage, key in keys.items():
            lag = lag_seconds(newest_event(settings, key))
            if lag is not None:
                samples[stage].append((elapsed, lag))
        time.sleep(0.5)
    return samples


def floor_probe(path: Path, seconds: float) -> list[tuple[float, float]]:
    from lakectl.monitor.freshness import _read_max_event_time, lag_seconds

    out, start = [], time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        lag = lag_seconds(_read_max_event_time(str(path), None))
        if lag is not None:
            out.append((elapsed, lag))
        time.sleep(0.5)
    return out


def figures(samples: list[tuple[float, float]], seconds: float) -> dict:
    lags = sorted(lag for t, lag in samples if t >= WARMUP_S)
    if len(lags) < 5:
        return {"samples": len(lags)}
    third = (seconds - WARMUP_S) / 3
    middle = [lag for t, lag in samples if WARMUP_S + third <= t < WARMUP_S + 2 * third]
    last = [lag for t, lag in samples if t >= WARMUP_S + 2 * third]

    def pct(q: float) -> float:
        return round(lags[min(len(lags) - 1, int(q * len(lags)))], 2)

    mid_mean, last_mean = statistics.fmean(middle or lags), statistics.fmean(last or lags)
    return {
        "samples": len(lags),
        "p50_s": pct(0.5),
        "p95_s": pct(0.95),
        "p99_s": pct(0.99),
        "mean_middle_third_s": round(mid_mean, 2),
        "mean_last_third_s": round(last_mean, 2),
        "bounded": last_mean <= 1.5 * mid_mean + 2.0,
    }


def run_lakectl(bootstrap: str, broker, trigger: str, rate: int, seconds: float, work: Path) -> dict:
    from lakectl.config import settings_from_dict

    topic = f"fresh-{int(time.time())}-{trigger.split()[0]}"
    broker.create_topic(topic, 2)
    root = work / f"lake-{trigger.split()[0]}"
    cfg = work / f"lakectl-{trigger.split()[0]}.yaml"
    cfg.write_text(
        f"storage:\n  root: {root}\ntargets:\n  local:\n    kind: local\n    shuffle_partitions: 2\n"
        f"sources:\n  kafka:\n    bootstrap_servers: '{bootstrap}'\n    topics: ['{topic}']\n"
    )
    settings = settings_from_dict({"storage": {"root": str(root)}}, "<bench>")
    producer = Producer(bootstrap, topic, rate)
    producer.start()
    cmd = [sys.executable, "-m", "lakectl", "--config", str(cfg), "run", "--source", "kafka", "--continuous", "--trigger-interval", trigger]
    log = (work / f"run-{trigger.split()[0]}.log").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    try:
        samples = probe(settings, STAGES, seconds)
    finally:
        producer.stop.set()
        proc.terminate()
        code = proc.wait(timeout=180)
        producer.join(60)
    return {
        "produced": producer.sent,
        "produced_per_s": round(producer.sent / seconds),
        "exit_code_after_sigterm": code,
        **{f"produced_to_{stage}": figures(s, seconds) for stage, s in samples.items()},
    }


def run_floor(bootstrap: str, broker, trigger: str, rate: int, seconds: float, work: Path) -> dict:
    topic = f"floor-{int(time.time())}-{trigger.split()[0]}"
    broker.create_topic(topic, 2)
    path, checkpoint = work / f"floor-{trigger.split()[0]}", work / f"floor-ckpt-{trigger.split()[0]}"
    producer = Producer(bootstrap, topic, rate)
    producer.start()
    proc = subprocess.Popen(
        [sys.executable, "-c", FLOOR, bootstrap, topic, str(path), str(checkpoint), trigger],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        samples = floor_probe(path, seconds)
    finally:
        producer.stop.set()
        proc.terminate()
        proc.wait(timeout=120)
        producer.join(60)
    return {"produced_per_s": round(producer.sent / seconds), "produced_to_table": figures(samples, seconds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=2000, help="events/s produced")
    ap.add_argument("--seconds", type=float, default=180.0, help="per run, warm-up included")
    ap.add_argument("--triggers", nargs="+", default=["1 second", "10 seconds"])
    ap.add_argument("--bootstrap", default=None, help="a running broker (default: start one on loopback)")
    args = ap.parse_args()
    from kafka_broker import start_broker

    with tempfile.TemporaryDirectory(prefix="lakectl-fresh-") as tmp:
        work = Path(tmp)
        broker = start_broker(work / "kafka")
        try:
            out: dict = {
                "benchmark": "freshness",
                "rate": args.rate,
                "seconds": args.seconds,
                "warmup_s": WARMUP_S,
                "load_before": os.getloadavg(),
                "runs": {},
            }
            for trigger in args.triggers:
                out["runs"][trigger] = {
                    "lakectl_run_continuous": run_lakectl(broker.bootstrap, broker, trigger, args.rate, args.seconds, work),
                    "floor_kafka_to_delta_append": run_floor(broker.bootstrap, broker, trigger, args.rate, args.seconds, work),
                }
                run = out["runs"][trigger]
                gold, floor = run["lakectl_run_continuous"]["produced_to_gold"], run["floor_kafka_to_delta_append"]["produced_to_table"]
                if "p50_s" in gold and "p50_s" in floor:
                    run["gold_p50_vs_floor_p50"] = round(gold["p50_s"] / max(floor["p50_s"], 0.01), 2)
            out["load_after"] = os.getloadavg()
        finally:
            broker.stop()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
