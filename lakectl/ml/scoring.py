"""Score review texts with a registered model, loaded once per process.

A tfidf version is a Spark PipelineModel: `mlflow.spark.load_model(...).transform(df)`, not
`mlflow.pyfunc.spark_udf`, which would start a second Spark inside every Python worker (docs/ml.md).
An encoder version is MiniLM + logistic-regression weights: the weights come from the model's
metadata (one small file) and each Python worker embeds and scores with its own encoder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_LOADED: dict[str, Any] = {}


def load(uri: str) -> Any:
    """The model at `uri` (models:/name/version): a Spark PipelineModel or an EncoderLR, loaded on first use."""
    from lakectl.ml.store import import_mlflow

    mlflow = import_mlflow()
    key = f"{mlflow.get_registry_uri()}|{uri}"  # models:/name/1 of one store is not that of another
    if key not in _LOADED:
        meta = _metadata(uri)
        if meta.get("lakectl_featurizer") == "encoder":
            from lakectl.ml.encoder_model import EncoderLR, check_installed_encoder

            model = EncoderLR.from_metadata(meta)
            check_installed_encoder(model)
            _LOADED[key] = model
        else:
            from lakectl.ml.connect_compat import load_spark_model

            _LOADED[key] = load_spark_model(uri)  # mlflow.spark.load_model, over Spark Connect too
    return _LOADED[key]


def is_encoder(uri: str) -> bool:
    """Whether the version at `uri` is an encoder model (reads the model's metadata, loads nothing)."""
    return _metadata(uri).get("lakectl_featurizer") == "encoder"


def _metadata(uri: str) -> dict[str, Any]:
    from mlflow.models import get_model_info  # callers have imported mlflow through lakectl.ml.store

    return get_model_info(uri).metadata or {}


def predict(model: Any, df: DataFrame) -> DataFrame:
    """`df` plus `score` (P(positive), 0-1) and `predicted` (1 positive, 0 negative)."""
    from lakectl.ml.encoder_model import EncoderLR, score_frame

    if isinstance(model, EncoderLR):
        return score_frame(model, df)
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    out = model.transform(df)
    return out.select(
        *(F.col(c) for c in df.columns),
        vector_to_array("probability")[1].alias("score"),
        F.col("prediction").cast("int").alias("predicted"),
    )
