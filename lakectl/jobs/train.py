"""train: fit the sentiment model on silver.reviews, track the run in MLflow, register a version,
alias it `challenger`, and make it `champion` when it passes the gate (docs/ml.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from lakectl import __version__
from lakectl.core.errors import TableNotFound, TooLittleTrainingData
from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import TrainParams

TABLE = "silver.reviews"


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    from lakectl.lake.delta import table_version
    from lakectl.ml import dataset
    from lakectl.ml.store import store_of

    p = parse_params(params, TrainParams)
    ml = ctx.settings.ml
    featurizer = p.featurizer or ml.featurizer
    reg_params = p.reg_params or ml.grid_for(featurizer)
    store = store_of(ctx.settings, ctx.target)
    handle = ctx.settings.table(TABLE)
    if p.dry_run:
        planned = _plan_from_log(ctx, p, store, featurizer)
        if planned is not None:
            return planned
    spark = ctx.spark
    latest = table_version(spark, handle.path)
    if latest < 0:
        raise TableNotFound(f"{handle.display} does not exist at {handle.path}", "run `lakectl transform` first")
    version = latest if p.version is None else p.version
    if version > latest:
        raise TableNotFound(f"{handle.display} has no version {version} (latest {latest})", "omit --version for the latest")
    data = dataset.load(spark, handle.display, handle.path, version, ml)
    metrics: dict[str, Any] = {
        "model_name": store.model_name,
        "table": handle.display,
        "table_version": version,
        "featurizer": featurizer,
        "rows": data.counts,
        "labelled_rows": data.labelled,
        "tracking_uri": store.display,
        "experiment": store.experiment,
    }
    result = Result(job="train", tables_read=[handle.display], rows_read=data.labelled, metrics=metrics)
    try:
        _check(data.counts, ml.min_labelled_rows, handle.display, version)
        if p.dry_run:
            return _planned(result, store)
        return _train(ctx, p, data, store, featurizer, reg_params, result)
    finally:
        data.rows.unpersist()


def _planned(result: Result, store) -> Result:  # noqa: ANN001
    result.dry_run, result.status = True, "dry_run"
    result.metrics["would_write"] = (
        f"one MLflow run in experiment {store.experiment!r} and a new version of model "
        f"{store.model_name!r} (alias challenger; champion if it passes the gate) in {store.display}"
    )
    return result


def _plan_from_log(ctx: JobContext, p: TrainParams, store, featurizer: str) -> Result | None:  # noqa: ANN001
    """The dry run from silver.reviews' log and files with delta-rs (no JVM): the same counts per split and label,
    and the same refusals; None when delta-rs cannot tell (a remote or catalog table): Spark counts then."""
    from lakectl.lake.pending import latest_version
    from lakectl.lake.preflight import checkable
    from lakectl.ml.split_counts import counts_from_log

    handle = ctx.settings.table(TABLE)
    latest = latest_version(handle.path) if checkable(handle) else None
    if latest is None:
        return None
    if latest < 0:
        raise TableNotFound(f"{handle.display} does not exist at {handle.path}", "run `lakectl transform` first")
    version = latest if p.version is None else p.version
    if version > latest:
        raise TableNotFound(f"{handle.display} has no version {version} (latest {latest})", "omit --version for the latest")
    counts = counts_from_log(handle.path, version, ctx.settings.ml)
    if counts is None:
        return None
    labelled = sum(sum(c.values()) for c in counts.values())
    metrics: dict[str, Any] = {
        "model_name": store.model_name,
        "table": handle.display,
        "table_version": version,
        "featurizer": featurizer,
        "rows": counts,
        "labelled_rows": labelled,
        "tracking_uri": store.display,
        "experiment": store.experiment,
        "planned_from": "the Delta log (no Spark started)",
    }
    _check(counts, ctx.settings.ml.min_labelled_rows, handle.display, version)
    return _planned(Result(job="train", tables_read=[handle.display], rows_read=labelled, metrics=metrics), store)


def _check(counts: dict[str, dict[str, int]], minimum: int, table: str, version: int) -> None:
    per_label = {k: sum(c[k] for c in counts.values()) for k in ("positive", "negative")}
    labelled = sum(per_label.values())
    where = f"{table} v{version}"
    hint = (
        "generate reviews with labelled text (`lakectl generate --review-texts FILE`), ingest and transform them; "
        "labels come from ratings (ml.positive_min_rating / ml.negative_max_rating)"
    )
    if labelled < minimum:
        raise TooLittleTrainingData(
            f"too few labelled reviews to train: {labelled} in {where} (need {minimum}: ml.min_labelled_rows)", hint
        )
    if min(per_label.values()) == 0:
        only = "positive" if per_label["positive"] else "negative"
        raise TooLittleTrainingData(f"only {only} reviews in {where}: a classifier needs both classes", hint)
    for split in ("train", "validation", "test"):
        part = counts[split]
        if split == "train" and min(part.values()) == 0 or sum(part.values()) == 0:
            raise TooLittleTrainingData(
                f"the {split} split of {where} is empty or has one class ({part})", "add reviews or change ml.split fractions"
            )


def _train(ctx: JobContext, p: TrainParams, data, store, featurizer: str, reg_params: list[float], result: Result) -> Result:  # noqa: ANN001
    from lakectl.ml import registry, training
    from lakectl.ml.metrics import calibration_png, classification_metrics, confusion, score_histogram
    from lakectl.ml.store import connect, ensure_experiment

    ml = ctx.settings.ml
    client = connect(store)  # exit 4 before any work when the store cannot be reached
    import mlflow

    experiment_id = ensure_experiment(client, store)
    fitted = training.fit(
        data.part("train"), data.part("validation"), featurizer=featurizer, reg_params=reg_params, num_features=ml.num_features
    )
    val_y, val_p = training.probabilities(fitted.model, data.part("validation"))
    test_y, test_p = training.probabilities(fitted.model, data.part("test"))
    val, test = classification_metrics(val_y, val_p), classification_metrics(test_y, test_p)

    current = registry.champion(client, store.model_name)
    champion_value = None
    if current is not None:  # re-score the champion on this run's test split: same rows, fair comparison
        from lakectl.ml import scoring

        cy, cp = training.probabilities(scoring.load(current.uri), data.part("test"))
        champion_value = classification_metrics(cy, cp)[ml.gate.metric]
    decision = registry.gate(
        ml.gate.metric,
        test[ml.gate.metric],
        champion_value,
        current.version if current else None,
        minimum=ml.gate.min_test_metric,
        tolerance=ml.gate.tolerance,
    )
    promote = decision.promote if p.promote is None else p.promote

    example = data.part("train").select("review_text").limit(5).toPandas()
    tags = {
        "lakectl.version": __version__,
        "lakectl.run_id": ctx.run_id,
        "lakectl.table": data.table,
        "lakectl.table_version": str(data.version),
    }
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{ctx.run_id}", tags=tags) as run:
        mlflow.log_params(
            {
                "featurizer": featurizer,
                "reg_param": fitted.reg_param,
                "reg_params": ",".join(map(str, reg_params)),
                "num_features": ml.num_features,
                "table": data.table,
                "table_version": data.version,
                "positive_min_rating": ml.positive_min_rating,
                "negative_max_rating": ml.negative_max_rating,
                "split_train": ml.split.train,
                "split_validation": ml.split.validation,
                "split_seed": ml.split.seed,
                **{f"rows_{s}": sum(c.values()) for s, c in data.counts.items()},
            }
        )
        mlflow.log_metrics({**{f"validation_{k}": v for k, v in val.items()}, **{f"test_{k}": v for k, v in test.items()}})
        mlflow.log_metrics({f"grid_validation_accuracy_reg_{r:g}": m["accuracy"] for r, m in fitted.grid.items()})
        if champion_value is not None:
            mlflow.log_metric(f"champion_test_{ml.gate.metric}", champion_value)
        mlflow.log_dict(confusion(test_y, test_p), "confusion_matrix_test.json")
        mlflow.log_dict(score_histogram(test_p), "score_histogram_test.json")  # PSI reference of `monitor models`
        with tempfile.TemporaryDirectory() as tmp:
            try:
                mlflow.log_artifact(str(calibration_png(test_y, test_p, Path(tmp) / "calibration_test.png")))
            except Exception as exc:  # a plot is a nice-to-have; the run stays valid without it
                result.warnings.append(f"calibration plot not written: {exc}")
        dataset_ = mlflow.data.from_spark(data.rows, path=data.path, version=str(data.version), name=data.table)
        mlflow.log_input(dataset_, context="training")
        info = _log_model(fitted.model, featurizer, example, data.part("train").limit(5), store.model_name)
        version = str(info.registered_model_version)
        client.set_registered_model_alias(store.model_name, registry.CHALLENGER, version)
        if promote:
            registry.set_champion(client, store.model_name, version)
        mlflow.set_tags({"lakectl.gate": decision.reason, "lakectl.promoted": str(promote).lower(), "lakectl.model_version": version})
        run_id = run.info.run_id

    result.tables_written = [f"mlflow:{store.model_name}/{version}"]
    result.metrics.update(
        {
            "model_version": version,
            "alias": registry.CHAMPION if promote else registry.CHALLENGER,
            "promoted": promote,
            "promote_forced": p.promote,
            "gate": decision.to_dict(),
            "mlflow_run_id": run_id,
            "experiment_id": experiment_id,
            "reg_param": fitted.reg_param,
            "grid": {f"{r:g}": m["accuracy"] for r, m in fitted.grid.items()},
            "champion_before": current.version if current else None,
            **{f"validation_{k}": v for k, v in val.items() if k != "rows"},
            **{f"test_{k}": v for k, v in test.items() if k != "rows"},
        }
    )
    if p.promote is not None and p.promote != decision.promote:
        result.warnings.append(
            f"gate said {'promote' if decision.promote else 'do not promote'} ({decision.reason}); "
            f"{'--promote' if p.promote else '--no-promote'} overrode it"
        )
    return result


def _log_model(model: Any, featurizer: str, example: Any, sample: Any, name: str) -> Any:  # noqa: ANN401
    """Log and register the fitted model: a Spark model (tfidf) or the encoder pyfunc with its ONNX file."""
    import mlflow
    from mlflow.models import infer_signature

    if featurizer == "encoder":
        import mlflow.pyfunc
        import onnxruntime
        import tokenizers

        from lakectl.ml.encoder_pyfunc import SentimentEncoderModel, artifacts

        signature = infer_signature(example, model.probabilities(example["review_text"].tolist()))
        with tempfile.TemporaryDirectory() as tmp:
            return mlflow.pyfunc.log_model(
                name="model",
                python_model=SentimentEncoderModel(),
                artifacts=artifacts(model, Path(tmp)),
                metadata=model.metadata(),
                signature=signature,
                input_example=example,
                registered_model_name=name,
                pip_requirements=[
                    f"mlflow=={mlflow.__version__}",
                    f"onnxruntime=={onnxruntime.__version__}",
                    f"tokenizers=={tokenizers.__version__}",
                    f"lakectl=={__version__}",
                ],
            )
    import pyspark

    from lakectl.ml.connect_compat import log_spark_model

    signature = infer_signature(example, model.transform(sample).select("prediction").toPandas())
    return log_spark_model(  # mlflow.spark.log_model, over Spark Connect too
        model,
        "model",
        signature=signature,
        input_example=example,
        registered_model_name=name,
        pip_requirements=[f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"],
    )
