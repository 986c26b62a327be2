"""The encoder featurizer's model: MiniLM sentence embeddings + logistic regression weights.

Training embeds each split once in Spark (`mapInPandas`, the encoder loaded once per Python worker) and
fits Spark's LogisticRegression on the vectors; scoring applies the weights in the same worker that
embeds, so a row leaves Python with its score. The weights (DIM floats) travel in the MLflow model's
metadata, so loading a version for scoring reads one small file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakectl.ml import encoder

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

FEATURIZER = "encoder"


@dataclass(frozen=True)
class EncoderLR:
    coef: tuple[float, ...]
    intercept: float
    model_id: str = encoder.MODEL_ID
    encoder_sha256: str = encoder.MODEL_SHA256

    def metadata(self) -> dict[str, Any]:
        return {
            "lakectl_featurizer": FEATURIZER,
            "encoder_model_id": self.model_id,
            "encoder_sha256": self.encoder_sha256,
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> EncoderLR:
        return cls(
            coef=tuple(float(c) for c in meta["coef"]),
            intercept=float(meta["intercept"]),
            model_id=str(meta.get("encoder_model_id", encoder.MODEL_ID)),
            encoder_sha256=str(meta.get("encoder_sha256", encoder.MODEL_SHA256)),
        )

    def probabilities(self, texts: list[str | None]) -> Any:
        """P(positive) per text, in this process (the served pyfunc and the plain-Python baseline)."""
        import numpy as np

        x = encoder.get().embed(texts)
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.coef, dtype=np.float32) + self.intercept)))


def check_installed_encoder(model: EncoderLR) -> None:
    """The packaged encoder must be the one the weights were fitted on (another file = wrong scores)."""
    path, tokenizer = encoder.packaged_files()
    if (
        model.encoder_sha256 != encoder.MODEL_SHA256
        or encoder.sha256(path) != model.encoder_sha256
        or encoder.sha256(tokenizer) != encoder.TOKENIZER_SHA256
    ):
        from lakectl.core.errors import EnvironmentProblem

        raise EnvironmentProblem(
            f"the installed encoder {path} is not the one this model version was trained with "
            f"({model.model_id}, sha256 {model.encoder_sha256[:12]}…)",
            "install the lakectl[encoder] versions pinned in pyproject.toml, or retrain",
        )


def embed_frame(df: DataFrame, text_col: str = "review_text") -> DataFrame:
    """`df` plus `features` (a vector of the text's embedding), computed once per row in Python workers."""
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, FloatType, StructField, StructType

    schema = StructType([*df.schema.fields, StructField("_embedding", ArrayType(FloatType(), False), False)])

    def embed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from lakectl.ml import encoder as enc

        model = enc.get()
        for pdf in batches:
            vectors = model.embed(pdf[text_col].tolist())
            yield pdf.assign(_embedding=list(vectors))

    return df.mapInPandas(embed, schema).withColumn("features", array_to_vector(F.col("_embedding"))).drop("_embedding")


def score_frame(model: EncoderLR, df: DataFrame, text_col: str = "review_text") -> DataFrame:
    """`df` plus `score` (P(positive)) and `predicted` (1/0), embedded and scored in one Python pass."""
    from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType

    schema = StructType([*df.schema.fields, StructField("score", DoubleType(), False), StructField("predicted", IntegerType(), False)])
    coef, intercept = list(model.coef), model.intercept

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import numpy as np

        from lakectl.ml import encoder as enc

        enc_model = enc.get()
        w = np.asarray(coef, dtype=np.float32)
        for pdf in batches:
            p = 1.0 / (1.0 + np.exp(-(enc_model.embed(pdf[text_col].tolist()) @ w + intercept)))
            yield pdf.assign(score=p.astype("float64"), predicted=(p >= 0.5).astype("int32"))

    return df.mapInPandas(score, schema)
