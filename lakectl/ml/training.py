"""Fit the sentiment pipeline: the featurizer once on the train split, then logistic regression for
each regParam of a small grid, chosen by accuracy on the validation split (ties: lower log loss)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakectl.ml.metrics import classification_metrics

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import DataFrame


@dataclass
class Fitted:
    model: "PipelineModel"
    reg_param: float
    grid: dict[float, dict[str, float]] = field(default_factory=dict)  # regParam -> validation metrics


def probabilities(model, df: "DataFrame") -> tuple[list[float], list[float]]:  # noqa: ANN001
    """(labels, P(positive)) of a labelled frame, collected to the driver (a split is small)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    rows = model.transform(df).select(F.col("label"), vector_to_array("probability")[1].alias("p")).collect()
    return [float(r["label"]) for r in rows], [float(r["p"]) for r in rows]


def fit(train: "DataFrame", validation: "DataFrame", *, featurizer: str, reg_params: list[float], num_features: int) -> Fitted:
    from pyspark.ml import PipelineModel
    from pyspark.ml.classification import LogisticRegression

    from lakectl.ml.featurizers import FEATURIZERS

    features = FEATURIZERS[featurizer](num_features=num_features).fit(train)
    train_features = features.transform(train).select("features", "label").cache()
    val_features = features.transform(validation).select("features", "label").cache()
    grid: dict[float, dict[str, float]] = {}
    models = {}
    try:
        for reg in reg_params:
            lr = LogisticRegression(featuresCol="features", labelCol="label", regParam=reg, elasticNetParam=0.0,
                                    standardization=False, maxIter=100)
            models[reg] = lr.fit(train_features)
            labels, probs = probabilities(models[reg], val_features)
            grid[reg] = classification_metrics(labels, probs)
    finally:
        train_features.unpersist()
        val_features.unpersist()
    best = max(reg_params, key=lambda r: (grid[r]["accuracy"], -grid[r]["log_loss"]))
    return Fitted(model=PipelineModel(stages=[*features.stages, models[best]]), reg_param=best, grid=grid)
