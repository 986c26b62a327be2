"""Benchmark `lakectl score`: batch rows/s against the same model run outside Spark, and the seconds
from a review landing in silver to its score with `--continuous`. Prints ONE JSON document.

1. A lake: silver.reviews with --train-rows labelled reviews (the UCI sentences when present, else
   synthetic ones) as version 0; `lakectl train` on it (the default featurizer, the encoder).
2. --rows more reviews appended (version 1).
3. lakectl: `python -m lakectl score --json` as a subprocess, so Spark's fixed costs (JVM start,
   session, model load) are included: rows/s = rows written / wall seconds.
4. The baseline, measured in the same run: the same registered version (its weights from the MLflow
   model, the same packaged ONNX encoder) in one plain Python process, onnxruntime using every core,
   over pandas batches of the texts read with delta-rs: rows/s of the scoring alone (the floor).
   A sample of its scores is compared with lakectl's (same model, same numbers).
5. `score --continuous --trigger-interval '1 second'`: once it has caught up, one review is appended
   --probes times; each probe's latency is from the append's return to its score being readable.

    LAKECTL_SENTIMENT_DATA=../shared/data/sentiment python benchmarks/score.py --rows 50000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _texts(n: int, seed: int) -> list[tuple[str, int]]:
    from lakectl.ml.corpus import load_review_texts, sentiment_data_dir

    data = sentiment_data_dir(REPO)
    pool: list[tuple[str, int]] = []
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
        if (data / name).exists():
            pool += load_review_texts(data / name)
    if not pool:
        good, bad = ("great", "love", "excellent", "perfect"), ("awful", "broken", "waste", "refund")
        pool = [(f"the phone was {w} and the battery {v}", int(w in good)) for w in good + bad for v in ("lasted", "died")]
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(n)]


def _append(spark, path: str, rows: list[tuple[str, int]], start: int) -> None:  # noqa: ANN001
    data = [(f"b{start + i:08d}", text, 5 if label else 1, label) for i, (text, label) in enumerate(rows)]
    (
        spark.createDataFrame(data, "event_id string, review_text string, rating int, label int")
        .write.format("delta")
        .mode("append")
        .save(path)
    )


def _scored_ids(path: str) -> set[str]:
    from deltalake import DeltaTable

    try:
        return set(DeltaTable(path).to_pyarrow_table(columns=["event_id"]).column(0).to_pylist())
    except Exception:  # not created yet
        return set()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000, help="reviews to score")
    ap.add_argument("--train-rows", type=int, default=2_000, help="labelled reviews the model is trained on")
    ap.add_argument("--probes", type=int, default=5, help="reviews appended one at a time under --continuous")
    ap.add_argument("--baseline-batch", type=int, default=1_000)
    args = ap.parse_args()

    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    out: dict = {"rows": args.rows, "train_rows": args.train_rows, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="lakectl-bench-score-") as tmp:
        root = Path(tmp) / "lake"
        cfg = {"storage": {"root": str(root)}}
        config = Path(tmp) / "lakectl.yaml"
        config.write_text(json.dumps(cfg))
        os.environ["LAKECTL_LEDGER"] = "off"
        ctx = JobContext(settings=settings_from_dict(cfg, "<bench>"))
        spark = ctx.spark
        reviews = ctx.settings.table("silver.reviews").path
        scores = ctx.settings.table("silver.review_scores").path
        _append(spark, reviews, _texts(args.train_rows, 1), 0)
        started = time.perf_counter()
        train = run_job(ctx, "train", {"version": 0}).metrics
        out.update(
            {
                "featurizer": train["featurizer"],
                "model_version": train["model_version"],
                "train_s": round(time.perf_counter() - started, 1),
                "test_accuracy": round(train["test_accuracy"], 4),
            }
        )
        _append(spark, reviews, _texts(args.rows - args.train_rows, 2), args.train_rows)

        env = {**os.environ, "PYTHONPATH": str(REPO)}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "lakectl", "--config", str(config), "score", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"score failed ({proc.returncode}): {proc.stderr[-2000:]}")
        written = json.loads(proc.stdout)["rows_written"]
        out["lakectl"] = {"rows_written": written, "wall_s": round(wall, 1), "rows_per_s": round(written / wall, 1)}

        # the floor: the same version outside Spark, every core to onnxruntime
        import numpy as np
        from deltalake import DeltaTable

        from lakectl.ml import encoder, scoring
        from lakectl.ml.encoder_model import EncoderLR

        model = scoring.load(f"models:/{train['model_name']}/{train['model_version']}")
        if not isinstance(model, EncoderLR):
            raise SystemExit("the baseline runs the encoder model; train with the encoder featurizer")
        table = DeltaTable(reviews).to_pandas(columns=["event_id", "review_text"])
        enc = encoder.Encoder(*encoder.packaged_files(), threads=os.cpu_count() or 1)
        w = np.asarray(model.coef, dtype=np.float32)
        started = time.perf_counter()
        probs = []
        for i in range(0, len(table), args.baseline_batch):
            texts = table["review_text"].iloc[i : i + args.baseline_batch].tolist()
            probs.append(1.0 / (1.0 + np.exp(-(enc.embed(texts) @ w + model.intercept))))
        floor_s = time.perf_counter() - started
        base = dict(zip(table["event_id"], np.concatenate(probs)))
        out["baseline_plain_python"] = {"rows": len(table), "seconds": round(floor_s, 1), "rows_per_s": round(len(table) / floor_s, 1)}
        out["ratio_to_baseline"] = round(out["lakectl"]["rows_per_s"] / out["baseline_plain_python"]["rows_per_s"], 3)
        got = DeltaTable(scores).to_pandas(columns=["event_id", "score"]).sample(n=min(1000, written), random_state=0)
        out["max_abs_score_difference_sample"] = float(max(abs(base[e] - s) for e, s in zip(got["event_id"], got["score"])))

        # --continuous: seconds from a review landing to its score
        stream = subprocess.Popen(
            [sys.executable, "-m", "lakectl", "--config", str(config), "score", "--continuous", "--trigger-interval", "1 second"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        latencies = []
        try:
            time.sleep(5)
            for k in range(args.probes):
                event_id = f"b{args.rows + k:08d}"
                _append(spark, reviews, _texts(1, 100 + k), args.rows + k)
                landed = time.perf_counter()
                while event_id not in _scored_ids(scores):
                    if stream.poll() is not None:
                        raise SystemExit(f"score --continuous ended: {stream.stderr.read()[-2000:]}")
                    if time.perf_counter() - landed > 300:
                        raise SystemExit("a probe was not scored within 300 s")
                    time.sleep(0.2)
                latencies.append(time.perf_counter() - landed)
        finally:
            stream.send_signal(signal.SIGTERM)
            try:
                stream.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(stream.pid, signal.SIGKILL)
        out["continuous_latency_s"] = {
            "median": round(statistics.median(latencies), 2),
            "max": round(max(latencies), 2),
            "probes": [round(x, 2) for x in latencies],
            "trigger_interval_s": 1,
            "exit_code": stream.returncode,
        }
        out["target"] = {"ratio_to_baseline": 0.5}
        out["meets_target"] = out["ratio_to_baseline"] >= 0.5
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
