"""Score review texts with a registered Spark model, loaded once per process.

`mlflow.spark.load_model(...).transform(df)`, not `mlflow.pyfunc.spark_udf`: the UDF would start a
second Spark inside every Python worker (see docs/ml.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import DataFrame

_LOADED: dict[str, "PipelineModel"] = {}


def load(uri: str) -> "PipelineModel":
    """The Spark model at `uri` (models:/name/version), loaded on first use in this process."""
    if uri not in _LOADED:
        from lakectl.ml.store import import_mlflow

        import_mlflow()  # exit 3 when mlflow is missing
        from lakectl.ml.connect_compat import load_spark_model

        _LOADED[uri] = load_spark_model(uri)  # mlflow.spark.load_model, over Spark Connect too
    return _LOADED[uri]


def predict(model: "PipelineModel", df: "DataFrame") -> "DataFrame":
    """`df` plus `score` (P(positive), 0-1) and `predicted` (1 positive, 0 negative)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    out = model.transform(df)
    return out.select(*(F.col(c) for c in df.columns), vector_to_array("probability")[1].alias("score"),
                      F.col("prediction").cast("int").alias("predicted"))
