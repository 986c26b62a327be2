"""The MiniLM encoder featurizer outside Spark: the packaged files, the embedding's shape and meaning."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def enc():
    from lakectl.ml import encoder

    return encoder.get()


def test_packaged_files_are_the_pinned_ones():
    from lakectl.ml import encoder

    model, tokenizer = encoder.packaged_files()
    assert encoder.sha256(model) == encoder.MODEL_SHA256
    assert encoder.sha256(tokenizer) == encoder.TOKENIZER_SHA256


def test_embeddings_are_unit_vectors_in_input_order_and_null_is_empty(enc):
    from lakectl.ml import encoder

    texts = ["a much longer review that goes on about the battery and the screen", "ok", None, ""]
    x = enc.embed(texts)
    assert x.shape == (4, encoder.DIM) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert np.allclose(enc.embed(texts[::-1])[::-1], x, atol=1e-5)  # the length sort inside does not reorder rows
    assert np.allclose(x[2], x[3], atol=1e-6)


def test_embeddings_carry_sentiment_similarity(enc):
    good, also_good, bad = enc.embed(
        ["I love this phone, it is great", "Excellent product, very happy", "Terrible, it broke and I want a refund"]
    )
    assert float(good @ also_good) > float(good @ bad)


def test_one_encoder_per_process(enc):
    from lakectl.ml import encoder

    assert encoder.get() is enc


def test_weights_round_trip_through_model_metadata():
    from lakectl.ml.encoder_model import EncoderLR

    m = EncoderLR(coef=tuple(float(i) / 384 for i in range(384)), intercept=-0.25)
    assert EncoderLR.from_metadata(m.metadata()) == m
    p = m.probabilities(["fine", None])
    assert p.shape == (2,) and ((0 < p) & (p < 1)).all()
