"""generate --review-texts: corpus formats, ratings that follow labels, determinism, unchanged defaults."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakectl.core.errors import UsageError
from lakectl.datagen.events import generate
from lakectl.ml.corpus import load_review_texts, sentiment_data_dir

START = datetime(2026, 11, 1, tzinfo=UTC)
UCI = sentiment_data_dir(Path(__file__).resolve().parents[2])


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(out.rglob("*.jsonl")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def _reviews(out: Path) -> list[dict]:
    lines = [l for f in sorted((out / "events").glob("*.jsonl")) for l in f.read_text().splitlines()]
    return [r for r in map(json.loads, lines) if r["event_type"] == "review"]


def _corpus(tmp_path: Path) -> list[tuple[str, int]]:
    tsv = tmp_path / "c.tsv"
    tsv.write_text("".join(f'good thing number {i} "quoted"\t1\nbad thing number {i}\t0\n' for i in range(40)))
    return load_review_texts(tsv)


def test_default_templates_are_byte_identical_to_before(tmp_path):
    # digest of the same call with the code before --review-texts existed (main at 02d364b)
    generate(tmp_path, 5000, seed=11, start=START, bad_fraction=0.01)
    assert _digest(tmp_path) == "fd04353dd3d482da719fd874615a5fac8e4a6e8f83a410c25a087a8ad4e4397c"


def test_formats_and_labels(tmp_path):
    (tmp_path / "a.csv").write_text('text,label\n"Great, really",positive\nawful,negative\n')
    (tmp_path / "a.jsonl").write_text('{"text": "fine", "label": 1}\n\n{"text": "meh", "label": "neg"}\n')
    (tmp_path / "a.txt").write_text('So "good"\t1\nNot\x85 good.\t0\r\n')
    assert load_review_texts(tmp_path / "a.csv") == [("Great, really", 1), ("awful", 0)]
    assert load_review_texts(tmp_path / "a.jsonl") == [("fine", 1), ("meh", 0)]
    assert load_review_texts(tmp_path / "a.txt") == [('So "good"', 1), ("Not\x85 good.", 0)]  # U+0085 is no line break


@pytest.mark.parametrize(
    "content, message",
    [
        ("fine\t1\nnope\tmaybe\n", "a.txt:2"),
        ("fine\t1\nok\t1\n", "only one label"),
        ("", "no labelled rows"),
    ],
)
def test_bad_corpus_is_a_usage_error(tmp_path, content, message):
    (tmp_path / "a.txt").write_text(content)
    with pytest.raises(UsageError, match=message):
        load_review_texts(tmp_path / "a.txt")


def test_ratings_follow_labels_with_a_neutral_share(tmp_path):
    corpus = _corpus(tmp_path)
    label_of = dict(corpus)
    generate(tmp_path / "a", 6000, seed=3, start=START, review_texts=corpus, neutral_share=0.2)
    generate(tmp_path / "b", 6000, seed=3, start=START, review_texts=corpus, neutral_share=0.2)
    generate(tmp_path / "c", 6000, seed=3, start=START)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    reviews = _reviews(tmp_path / "a")
    assert len(reviews) > 40
    ratings = Counter(r["rating"] for r in reviews)
    assert set(ratings) <= {1, 2, 3, 4, 5}
    for r in reviews:
        assert r["review_text"] in label_of
        if r["rating"] != 3:
            assert (r["rating"] >= 4) == (label_of[r["review_text"]] == 1)
    assert 0.1 < ratings[3] / len(reviews) < 0.3
    # a shuffled walk through the corpus: no sentence repeats before all were used
    first = [r["review_text"] for r in reviews[: len(corpus)]]
    assert len(set(first)) == len(first)


def test_generate_job_with_uci_file(tmp_path):
    yelp = UCI / "yelp_labelled.txt"
    if not yelp.exists():
        pytest.skip(f"UCI sentiment sentences not found at {UCI} (set LAKECTL_SENTIMENT_DATA)")
    from lakectl.config import settings_from_dict
    from lakectl.engine.context import JobContext
    from lakectl.jobs.generate import run

    ctx = JobContext(settings=settings_from_dict({"storage": {"root": str(tmp_path / "lake")}}))
    result = run(ctx, {"events": 4000, "seed": 5, "start": START, "review_texts": str(yelp), "neutral_share": 0.0})
    assert result.metrics["review_texts_rows"] == 1000 and result.metrics["review_texts_positive"] == 500
    reviews = _reviews(ctx.settings.storage.landing_dir)
    texts = {t for t, _ in load_review_texts(yelp)}
    assert reviews and all(r["review_text"] in texts and r["rating"] != 3 for r in reviews)
