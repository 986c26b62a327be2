"""The encoder model as an MLflow pyfunc, so `mlflow models serve` (and any pyfunc consumer) answers
P(positive) per review text. The ONNX file and tokenizer travel as the model's artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from lakectl.ml import encoder
from lakectl.ml.encoder_model import EncoderLR


class SentimentEncoderModel(mlflow.pyfunc.PythonModel):
    """Input: a frame with `review_text`; output: P(positive) per row."""

    def load_context(self, context: Any) -> None:
        import json

        self.model = EncoderLR.from_metadata(json.loads(Path(context.artifacts["weights"]).read_text()))
        # the model's own copy of the encoder, not whatever is installed where it is served
        self.encoder = encoder.get(context.artifacts["encoder_model"], context.artifacts["tokenizer"])

    # A DataFrame hint is one MLflow infers no schema from (so it validates and converts nothing), and it
    # silences the "add type hints to predict" warning every train printed.
    def predict(self, context, model_input: pd.DataFrame, params=None):  # noqa: ANN001, ANN201
        import numpy as np

        texts = model_input["review_text"].tolist() if isinstance(model_input, pd.DataFrame) else list(model_input)
        x = self.encoder.embed(texts)
        p = 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.model.coef, dtype=np.float32) + self.model.intercept)))
        return pd.Series(p.astype("float64"), name="score")


def artifacts(model: EncoderLR, folder: Path) -> dict[str, str]:
    """The files the served model needs: the encoder, its tokenizer, and the weights (written to `folder`)."""
    import json

    onnx, tokenizer = encoder.packaged_files()
    weights = folder / "weights.json"
    weights.write_text(json.dumps(model.metadata()))
    # MLflow refuses an artifact whose resolved path leaves its folder ("resolved path is outside the artifact
    # directory"): packages installed as symlinks (uv's symlink link mode, a cluster's linked library cache) need
    # the real files named
    return {"encoder_model": str(onnx.resolve()), "tokenizer": str(tokenizer.resolve()), "weights": str(weights)}
