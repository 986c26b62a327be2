"""The encoder model's artifacts load in MLflow even when its packages are installed as symlinks (uv's symlink
link mode, a cluster's linked library cache): MLflow refuses a file whose resolved path leaves its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("mlflow")


class _Weights:
    def metadata(self) -> dict:
        return {"coef": [0.5, -0.5], "intercept": 0.1}


def test_encoder_artifacts_from_symlinked_packages_are_logged_by_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from mlflow.tracking.artifact_utils import _download_artifact_from_uri

    from lakectl.ml import encoder, encoder_pyfunc

    real, linked = tmp_path / "store", tmp_path / "site-packages"
    real.mkdir()
    linked.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        (real / name).write_bytes(name.encode())
        (linked / name).symlink_to(real / name)
    monkeypatch.setattr(encoder, "packaged_files", lambda: (linked / "model.onnx", linked / "tokenizer.json"))
    (tmp_path / "weights").mkdir()

    files = encoder_pyfunc.artifacts(_Weights(), tmp_path / "weights")

    for key, name in (("encoder_model", "model.onnx"), ("tokenizer", "tokenizer.json")):
        out = tmp_path / "out" / key
        out.mkdir(parents=True)
        copied = Path(_download_artifact_from_uri(files[key], output_path=str(out)))
        assert copied.read_bytes() == name.encode()
    assert '"intercept": 0.1' in Path(files["weights"]).read_text()
