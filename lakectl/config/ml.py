"""`ml`: MLflow stores, the model, its labels, split, gate and monitoring SLAs."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from lakectl.core.typed import Struct


class MLSplit(Struct):
    """The deterministic train / validation / test split by a hash of event_id (test gets the rest)."""

    train: Annotated[float, Meta(gt=0, lt=1)] = 0.7
    validation: Annotated[float, Meta(gt=0, lt=1)] = 0.15
    seed: int = 17

    def __post_init__(self) -> None:
        if self.train + self.validation >= 1:
            raise ValueError("train + validation must leave a share for the test split (sum < 1)")


class MLGate(Struct):
    """When a newly trained version becomes `champion`."""

    metric: Literal["accuracy", "f1", "roc_auc"] = "accuracy"
    min_test_metric: Annotated[float, Meta(ge=0, le=1)] = 0.6
    tolerance: Annotated[float, Meta(ge=0, le=1)] = 0.0  # must beat the champion's metric minus this (equal does not)


class ModelSla(Struct):
    """`lakectl monitor check` thresholds on a scored model version (docs/ml.md#monitoring)."""

    min_rating_agreement: Annotated[float, Meta(ge=0, le=1)] | None = None  # predicted label = rating label, share
    max_score_psi: Annotated[float, Meta(ge=0)] | None = None  # scores vs the training run's test split


class MLSla(ModelSla):
    """Model SLAs for every scored model (`models:` overrides them per model name)."""

    window_days: Annotated[float, Meta(gt=0)] = 7.0  # scores of the last N days are measured
    min_rows: Annotated[int, Meta(ge=1)] = 100  # fewer compared (agreement) or scored (PSI) rows: skipped
    models: dict[str, ModelSla] = field(default_factory=dict)

    def for_model(self, name: str) -> ModelSla:
        """The thresholds for model `name`: its own where set, else the global ones."""
        own = self.models.get(name) or ModelSla()
        return ModelSla(
            min_rating_agreement=self.min_rating_agreement if own.min_rating_agreement is None else own.min_rating_agreement,
            max_score_psi=self.max_score_psi if own.max_score_psi is None else own.max_score_psi,
        )

    @property
    def configured(self) -> bool:
        return any(s.min_rating_agreement is not None or s.max_score_psi is not None for s in [self, *self.models.values()])


class MLSettings(Struct):
    """`lakectl train` / `score` / `model`: MLflow stores, the model, its labels, split and gate."""

    tracking_uri: str | None = None  # default: sqlite:///<storage.root>/mlflow/mlflow.db
    registry_uri: str | None = None  # default: the tracking URI
    artifact_location: str | None = None  # default: <storage.root>/mlflow/artifacts
    experiment: str = "lakectl-sentiment"
    model_name: str = "sentiment"  # on Databricks: <storage.catalog>.<model_schema>.<model_name> unless three-part
    model_schema: str = "ml"
    featurizer: Literal["encoder", "tfidf"] = "encoder"
    positive_min_rating: Annotated[int, Meta(ge=1, le=5)] = 4
    negative_max_rating: Annotated[int, Meta(ge=1, le=5)] = 2
    min_labelled_rows: Annotated[int, Meta(ge=2)] = 50
    split: MLSplit = field(default_factory=MLSplit)
    reg_params: Annotated[list[float], Meta(min_length=1)] | None = None  # default: the featurizer's grid (grid_for)
    num_features: Annotated[int, Meta(ge=16)] = 1 << 18
    gate: MLGate = field(default_factory=MLGate)
    sla: MLSla = field(default_factory=MLSla)  # `monitor check`: rating agreement and score drift

    def grid_for(self, featurizer: str) -> list[float]:
        """The regParam grid: ml.reg_params, else one measured for the featurizer's feature scale (docs/ml.md)."""
        if self.reg_params:
            return list(self.reg_params)
        return [0.03, 0.1, 0.3, 1.0] if featurizer == "encoder" else [0.003, 0.01, 0.03, 0.1]

    def __post_init__(self) -> None:
        if self.negative_max_rating >= self.positive_min_rating:
            raise ValueError("negative_max_rating must be below positive_min_rating")
