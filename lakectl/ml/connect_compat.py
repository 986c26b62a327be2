"""MLflow's `spark` flavor on every session kind: log and load Spark ML models over Spark Connect too.

`pyspark.ml` (Pipeline, RegexTokenizer, NGram, HashingTF, IDF, LogisticRegression, ...) fits and
transforms over Spark Connect in Spark 4.2: the stages live on the server. What fails is MLflow 3.17's
copy of the model between Spark's file system and the client's disk: `mlflow.spark.save_model` has the
server write the model to a temporary folder (`dfs_tmpdir`), then copies it to the local model folder with
`_HadoopFileSystem`, which calls the JVM through py4j in the client process; `load_model` copies the
downloaded model back the same way before `PipelineModel.load`. A Connect client has no JVM
(`AttributeError: 'NoneType' object has no attribute 'jvm'`). MLflow's own Connect support covers only
the `pyspark.ml.connect` estimators and Databricks runtimes (through Unity Catalog volumes).

Over Connect these two copies go through a folder the client and the server both see instead: the
storage root's `tmp/mlflow` (the tables' paths must mean the same on both already, docs/targets.md).
Everything else is MLflow's own code, so a model logged over Connect is the same `spark`-flavor model
as one logged locally, and either loads on either session kind. On a classic session nothing changes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel

_shared_dir: Path | None = None


def use_shared_dir(path: Path) -> None:
    """Where models cross between client and server over Connect (set with the MLflow store, per job)."""
    global _shared_dir
    _shared_dir = path


def log_spark_model(spark_model: Any, artifact_path: str, **kwargs: Any) -> Any:
    """`mlflow.spark.log_model` (same arguments, same ModelInfo), over Spark Connect too."""
    import mlflow.spark

    with _through_shared_dir() as shared:
        if shared is not None:
            kwargs["dfs_tmpdir"] = shared
        return mlflow.spark.log_model(spark_model, artifact_path, **kwargs)


def load_spark_model(uri: str) -> PipelineModel:
    """`mlflow.spark.load_model(uri)`, over Spark Connect too (the model is loaded on the server)."""
    import mlflow.spark

    with _through_shared_dir() as shared:
        if shared is None:
            return mlflow.spark.load_model(uri)
        return mlflow.spark.load_model(uri, dfs_tmpdir=shared)


def _on_connect() -> bool:
    from pyspark.sql import SparkSession

    from lakectl.engine.spark import is_connect

    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):  # MLflow handles Databricks runtimes itself
        return False
    active = SparkSession.getActiveSession()
    return active is not None and is_connect(active)


def _shared() -> Path:
    return (_shared_dir or Path(os.environ.get("MLFLOW_DFS_TMP") or "/tmp/mlflow")).resolve()


@contextmanager
def _through_shared_dir() -> Iterator[str | None]:
    """On a Connect session: MLflow's JVM file copies replaced by file copies through the shared folder,
    whose path is yielded (MLflow's `dfs_tmpdir`). Elsewhere: None, MLflow untouched."""
    if not _on_connect():
        yield None
        return
    import mlflow.spark

    shared = _shared()
    shared.mkdir(parents=True, exist_ok=True)
    saved, saved_env = mlflow.spark._HadoopFileSystem, os.environ.get("MLFLOW_DFS_TMP")
    mlflow.spark._HadoopFileSystem = _SharedFileSystem
    # log_model validates the input example by loading the model as a pyfunc, with MLflow's default dfs_tmpdir
    os.environ["MLFLOW_DFS_TMP"] = str(shared)
    try:
        yield str(shared)
    finally:
        mlflow.spark._HadoopFileSystem = saved
        if saved_env is None:
            os.environ.pop("MLFLOW_DFS_TMP", None)
        else:
            os.environ["MLFLOW_DFS_TMP"] = saved_env
        # every load has read each stage's data into the server's memory: the copies are not needed any more
        for copy in _SharedFileSystem.copies:
            shutil.rmtree(copy, ignore_errors=True)
        _SharedFileSystem.copies.clear()


def _local(path: str) -> str:
    return path[len("file:") :] if path.startswith("file:") else path


class _SharedFileSystem:
    """What `mlflow.spark` asks of `_HadoopFileSystem` on its save and load paths, as plain file copies:
    over Connect the "distributed" file system is the folder the client and the server share."""

    copies: list[str] = []

    @classmethod
    def copy_to_local_file(cls, src: str, dst: str, remove_src: bool) -> None:
        """save_model: the server wrote the model to `src` (under the shared folder)."""
        if remove_src:
            shutil.move(_local(src), dst)
        else:
            shutil.copytree(_local(src), dst)

    @classmethod
    def maybe_copy_from_uri(cls, src_uri: str, dst_path: str, local_model_path: str | None = None) -> str:
        """load_model: put the downloaded model where the server can read it; returns that path."""
        if local_model_path is None:  # the pyfunc loader passes a local folder as the URI
            from mlflow.tracking.artifact_utils import _download_artifact_from_uri

            local_model_path = _download_artifact_from_uri(src_uri)
        return cls.maybe_copy_from_local_file(local_model_path, dst_path)

    @classmethod
    def maybe_copy_from_local_file(cls, src: str, dst: str) -> str:
        shutil.copytree(src, _local(dst))
        cls.copies.append(_local(dst))
        return dst

    @classmethod
    def delete(cls, path: str) -> None:
        shutil.rmtree(_local(path), ignore_errors=True)


def spark_model_copy_for_server(uri: str) -> tuple[str, str]:
    """A copy of the Spark ML pipeline of `uri` (a `spark`-flavor MLflow model) in the shared folder, for
    code that runs on the Connect server and loads it there with `PipelineModel.load`: a `foreachBatch`
    function cannot carry a loaded model (it holds the client's session, which does not pickle).
    Returns (the copy's folder, which the caller deletes when done; the pipeline's folder in it)."""
    import uuid

    from mlflow.artifacts import download_artifacts

    target = _shared() / f"serve-{uuid.uuid4().hex[:12]}"
    target.mkdir(parents=True)
    local = Path(download_artifacts(artifact_uri=uri, dst_path=str(target)))
    sparkml = local / "sparkml"
    if not sparkml.is_dir():
        shutil.rmtree(target, ignore_errors=True)
        raise FileNotFoundError(f"{uri} has no sparkml folder: not a spark-flavor model")
    return str(target), str(sparkml)
