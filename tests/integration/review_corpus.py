"""Labelled review sentences for the ML tests (tests/integration is on sys.path through tests/conftest.py)."""

from __future__ import annotations

import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_GOOD = ("great", "excellent", "love", "perfect", "wonderful", "fantastic", "happy", "recommend", "best", "amazing")
_BAD = ("terrible", "awful", "broken", "waste", "worst", "disappointed", "poor", "useless", "refund", "horrible")
_FILLER = ("the", "phone", "service", "food", "it", "was", "really", "this", "and", "very", "place", "battery")


def review_corpus(n: int = 400) -> list[tuple[str, int]]:
    """(text, label): the UCI yelp sentences when ../shared/data/sentiment is there, else generated ones
    (six filler words and two sentiment words, labels alternating); both seeded."""
    from lakectl.ml.corpus import load_review_texts, sentiment_data_dir

    uci = sentiment_data_dir(REPO) / "yelp_labelled.txt"
    if uci.exists():
        rows = load_review_texts(uci)
        random.Random(1).shuffle(rows)
        return rows[:n]
    rng = random.Random(1)
    out = []
    for i in range(n):
        label = i % 2
        words = [rng.choice(_FILLER) for _ in range(6)] + [rng.choice(_GOOD if label else _BAD) for _ in range(2)]
        rng.shuffle(words)
        out.append((" ".join(words), label))
    return out
