"""Benchmark: held-out sentiment quality of the model `lakectl train` makes, next to a scikit-learn
TF-IDF + logistic-regression baseline trained on the same rows in the same run. Prints ONE JSON document.

Through the lake: the amazon + yelp UCI sentences (Kotzias et al., KDD 2015) become review events
(`generate --review-texts`, no neutral 3s), then ingest -> transform -> train in one process; the
champion scores the imdb sentences, which it never saw. Also the in-domain figure: 5 stratified folds
over amazon + yelp for the same Spark pipeline (the chosen regParam) and for the baseline.

    LAKECTL_SENTIMENT_DATA=../shared/data/sentiment python benchmarks/sentiment.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _sklearn_model(reg_param: float, rows: int):  # noqa: ANN202
    """The baseline: word 1-2-gram TF-IDF + L2 logistic regression (C from Spark's regParam scale)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from lakectl.ml.featurizers import TOKEN_PATTERN

    c = 1.0 / max(reg_param * rows, 1e-6)  # Spark minimises mean loss + reg/2 |w|^2; sklearn sum loss + 1/(2C) |w|^2
    return make_pipeline(
        TfidfVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, 2), lowercase=True), LogisticRegression(C=c, max_iter=2000)
    )


def _baseline_reg(train: dict) -> float:
    """The tfidf model's chosen regParam for its twin; for the encoder (another feature scale) the
    regParam that equals scikit-learn's default C=1 on the lake's train rows."""
    if train["featurizer"] == "tfidf":
        return train["reg_param"]
    return 1.0 / max(sum(train["rows"]["train"].values()), 1)


def _folds(rows: list[tuple[str, int]], k: int, seed: int) -> list[int]:
    """A stratified fold number per row."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    fold, counters = [0] * len(rows), {0: 0, 1: 0}
    for i in order:
        label = rows[i][1]
        fold[i] = counters[label] % k
        counters[label] += 1
    return fold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default=None, help="folder of the UCI files (default: $LAKECTL_SENTIMENT_DATA or ../shared/data/sentiment)"
    )
    parser.add_argument("--events", type=int, default=300_000, help="events to generate (enough reviews to use each sentence about once)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--featurizer", choices=("encoder", "tfidf"), default=None, help="default: ml.featurizer (encoder)")
    args = parser.parse_args()

    from lakectl.ml.corpus import load_review_texts, sentiment_data_dir

    data = Path(args.data) if args.data else sentiment_data_dir(REPO)
    train_rows = load_review_texts(data / "amazon_cells_labelled.txt") + load_review_texts(data / "yelp_labelled.txt")
    imdb = load_review_texts(data / "imdb_labelled.txt")

    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs import run_job

    out: dict = {"train_sentences": len(train_rows), "imdb_sentences": len(imdb)}
    with tempfile.TemporaryDirectory(prefix="lakectl-sentiment-") as tmp:
        corpus = Path(tmp) / "amazon_yelp.tsv"
        corpus.write_text("".join(f"{t.replace(chr(9), ' ')}\t{y}\n" for t, y in train_rows))
        os.environ.setdefault("LAKECTL_LEDGER", "off")
        ctx = JobContext(settings=settings_from_dict({"storage": {"root": str(Path(tmp) / "lake")}}, "<bench>"))
        timings = {}
        for job, params in (
            ("generate", {"events": args.events, "seed": 3, "review_texts": str(corpus), "neutral_share": 0.0}),
            ("ingest", {}),
            ("transform", {}),
            ("train", {"featurizer": args.featurizer}),
        ):
            started = time.perf_counter()
            result = run_job(ctx, job, params)
            timings[f"{job}_s"] = round(time.perf_counter() - started, 1)
        train = result.metrics
        out.update(
            {
                "featurizer": train["featurizer"],
                "lake_labelled_reviews": train["labelled_rows"],
                "rows_per_split": train["rows"],
                "reg_param": train["reg_param"],
                "lake_test_accuracy": round(train["test_accuracy"], 4),
                **timings,
            }
        )

        spark = ctx.spark
        from pyspark.sql import functions as F

        from lakectl.ml import scoring
        from lakectl.ml.dataset import split_column
        from lakectl.ml.metrics import classification_metrics

        model = scoring.load(f"models:/{train['model_name']}/{train['model_version']}")
        imdb_df = spark.createDataFrame([(t, float(y)) for t, y in imdb], "review_text string, label double")
        started = time.perf_counter()
        got = scoring.predict(model, imdb_df).select("label", "score").collect()
        out["lakectl_imdb_accuracy"] = round(classification_metrics([r[0] for r in got], [r[1] for r in got])["accuracy"], 4)
        out["lakectl_imdb_score_s"] = round(time.perf_counter() - started, 2)

        # the baseline on the same rows: the train split of silver.reviews as the lake labelled it
        reviews = spark.read.format("delta").load(ctx.settings.table("silver.reviews").path).where(F.col("label").isNotNull())
        same = reviews.where(split_column(ctx.settings.ml) == "train").select("review_text", "label").collect()
        baseline = _sklearn_model(_baseline_reg(train), len(same)).fit([r[0] for r in same], [int(r[1]) for r in same])
        out["sklearn_imdb_accuracy"] = round(float((baseline.predict([t for t, _ in imdb]) == [y for _, y in imdb]).mean()), 4)

        # in-domain: k stratified folds over amazon + yelp sentences, both methods on the same folds
        from lakectl.ml import training

        fold = _folds(train_rows, args.folds, 11)
        all_df = spark.createDataFrame(
            [(t, float(y), fold[i]) for i, (t, y) in enumerate(train_rows)], "review_text string, label double, fold int"
        ).cache()
        spark_acc, sk_acc = [], []
        for k in range(args.folds):
            tr, te = all_df.where(F.col("fold") != k), all_df.where(F.col("fold") == k)
            fitted = training.fit(
                tr, te, featurizer=train["featurizer"], reg_params=[train["reg_param"]], num_features=ctx.settings.ml.num_features
            )
            spark_acc.append(fitted.grid[train["reg_param"]]["accuracy"])
            tr_rows = [r for i, r in enumerate(train_rows) if fold[i] != k]
            te_rows = [r for i, r in enumerate(train_rows) if fold[i] == k]
            sk = _sklearn_model(_baseline_reg(train), len(tr_rows)).fit([t for t, _ in tr_rows], [y for _, y in tr_rows])
            sk_acc.append(float((sk.predict([t for t, _ in te_rows]) == [y for _, y in te_rows]).mean()))
        out["lakectl_in_domain_accuracy"] = round(sum(spark_acc) / len(spark_acc), 4)
        out["sklearn_in_domain_accuracy"] = round(sum(sk_acc) / len(sk_acc), 4)
        out["targets"] = {"imdb": 0.85, "in_domain": 0.88}
        out["meets_targets"] = out["lakectl_imdb_accuracy"] >= 0.85 and out["lakectl_in_domain_accuracy"] >= 0.88
    print(json.dumps(out))


if __name__ == "__main__":
    main()
