"""Review texts for the generator: templates whose tone agrees with the rating, or sentences drawn from a
labelled corpus with a rating that agrees with the label."""

from __future__ import annotations

import random
from collections.abc import Sequence

RATING_WEIGHTS = ((5, 0.40), (4, 0.25), (3, 0.12), (2, 0.09), (1, 0.14))

_POSITIVE = (
    "Absolutely love this {p}, works perfectly and arrived early.",
    "Great quality {p} for the price, would buy again.",
    "Exceeded my expectations, the {p} is excellent.",
    "Fantastic {p}! Highly recommend it to anyone.",
    "Really happy with this {p}, five stars.",
    "Solid {p}, easy to use and well made.",
    "The {p} is wonderful and the delivery was fast.",
    "Best {p} I have bought in years, great value.",
)
_NEUTRAL = (
    "The {p} is okay, nothing special.",
    "Average {p}, does the job but feels a bit cheap.",
    "Decent {p} but the delivery took a while.",
    "It is fine. The {p} works as described, no more.",
)
_NEGATIVE = (
    "Terrible {p}, it broke after two days.",
    "Very disappointed with this {p}, poor quality.",
    "Do not buy this {p}. Waste of money.",
    "The {p} stopped working and support never answered.",
    "Awful experience, the {p} arrived damaged.",
    "Cheap {p} that feels flimsy, I returned it.",
    "Worst {p} ever, completely useless.",
)


def review_text(rng: random.Random, rating: int, product_word: str, noise: float = 0.05) -> str:
    """A review whose tone agrees with the rating, except for a `noise` share of mismatches."""
    tone = "pos" if rating >= 4 else "neg" if rating <= 2 else "neu"
    if rng.random() < noise:
        tone = rng.choice(("pos", "neg", "neu"))
    pool = _POSITIVE if tone == "pos" else _NEGATIVE if tone == "neg" else _NEUTRAL
    text = rng.choice(pool).format(p=product_word)
    if rng.random() < 0.3:
        text += " " + rng.choice(pool).format(p=product_word)
    return text


class CorpusDraw:
    """Review texts from a labelled corpus, in a seeded shuffled order (repeating only once every
    sentence was used), each with a rating that agrees with its label: positive 4-5, negative 1-2,
    and a `neutral_share` of 3s that keep their text (silver then gives them no label)."""

    def __init__(self, rng: random.Random, corpus: Sequence[tuple[str, int]], neutral_share: float) -> None:
        self.corpus, self.neutral_share = corpus, neutral_share
        self.order = list(range(len(corpus)))
        rng.shuffle(self.order)
        self.next = 0

    def draw(self, rng: random.Random) -> tuple[str, int]:
        text, label = self.corpus[self.order[self.next % len(self.order)]]
        self.next += 1
        if rng.random() < self.neutral_share:
            return text, 3
        strong = rng.random() < 0.6  # about the 5:4 and 1:2 proportions of RATING_WEIGHTS
        return text, (5 if strong else 4) if label == 1 else (1 if strong else 2)
