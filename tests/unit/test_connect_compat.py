"""lakectl/ml/connect_compat.py without Spark: the stand-in for MLflow's JVM file copies, and the pass-through."""

from __future__ import annotations

from pathlib import Path

from lakectl.ml import connect_compat
from lakectl.ml.connect_compat import _SharedFileSystem


def _model(folder: Path) -> Path:
    (folder / "stages" / "0_idf").mkdir(parents=True)
    (folder / "metadata").write_text("{}")
    (folder / "stages" / "0_idf" / "data").write_text("weights")
    return folder


def test_save_moves_what_the_server_wrote_into_the_local_model_folder(tmp_path):
    written = _model(tmp_path / "shared" / "uuid1")
    _SharedFileSystem.copy_to_local_file(f"file:{written}", str(tmp_path / "local" / "sparkml"), remove_src=True)
    assert (tmp_path / "local" / "sparkml" / "stages" / "0_idf" / "data").read_text() == "weights"
    assert not written.exists()


def test_load_copies_the_download_where_the_server_reads_and_cleanup_removes_it(tmp_path, monkeypatch):
    downloaded = _model(tmp_path / "download" / "sparkml")
    dst = str(tmp_path / "shared" / "uuid2")
    assert _SharedFileSystem.maybe_copy_from_uri("models:/m/1/sparkml", dst, str(downloaded)) == dst
    assert (Path(dst) / "metadata").exists() and downloaded.exists()
    assert _SharedFileSystem.copies == [dst]
    # leaving the context (as on a Connect session) restores MLflow and removes the copies
    monkeypatch.setattr(connect_compat, "_on_connect", lambda: True)
    connect_compat.use_shared_dir(tmp_path / "shared")
    import mlflow.spark

    original = mlflow.spark._HadoopFileSystem
    with connect_compat._through_shared_dir() as shared:
        assert shared == str((tmp_path / "shared").resolve()) and mlflow.spark._HadoopFileSystem is _SharedFileSystem
    assert mlflow.spark._HadoopFileSystem is original
    assert not Path(dst).exists() and _SharedFileSystem.copies == []


def test_a_classic_or_absent_session_leaves_mlflow_alone(monkeypatch):
    monkeypatch.setattr(connect_compat, "_on_connect", lambda: False)
    with connect_compat._through_shared_dir() as shared:
        assert shared is None


def test_a_copy_for_the_server_holds_the_pipeline_and_a_non_spark_model_is_refused(tmp_path):
    """score --continuous over Connect: the server's worker loads the pipeline from this copy."""
    import pytest

    connect_compat.use_shared_dir(tmp_path / "shared")
    artifacts = tmp_path / "artifacts" / "model"
    _model(artifacts / "sparkml")
    (artifacts / "MLmodel").write_text("flavors: {}\n")
    folder, sparkml = connect_compat.spark_model_copy_for_server(str(artifacts))
    assert Path(folder).parent == (tmp_path / "shared").resolve() and Path(sparkml).is_relative_to(folder)
    assert (Path(sparkml) / "stages" / "0_idf" / "data").read_text() == "weights"
    (artifacts / "sparkml" / "stages" / "0_idf" / "data").unlink()  # a copy, not the registry's own files
    assert (Path(sparkml) / "stages" / "0_idf" / "data").exists()

    pyfunc = tmp_path / "artifacts" / "encoder"
    pyfunc.mkdir()
    (pyfunc / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(FileNotFoundError, match="not a spark-flavor model"):
        connect_compat.spark_model_copy_for_server(str(pyfunc))
    assert [p.name for p in (tmp_path / "shared").resolve().iterdir()] == [Path(folder).name]  # the failed copy is gone
    connect_compat.use_shared_dir(None)  # type: ignore[arg-type]
