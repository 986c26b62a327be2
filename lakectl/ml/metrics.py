"""Classification metrics of (label, probability) pairs, the confusion matrix and a calibration plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence


def classification_metrics(labels: Sequence[float], probs: Sequence[float], threshold: float = 0.5) -> dict[str, float]:
    """accuracy, F1 (positive class), ROC AUC and log loss; AUC is NaN when only one class is present."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    y = np.asarray(labels, dtype=int)
    p = np.clip(np.asarray(probs, dtype=float), 1e-7, 1 - 1e-7)
    pred = (p >= threshold).astype(int)
    both = len(set(y.tolist())) == 2
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "rows": float(len(y)),
    }


def confusion(labels: Sequence[float], probs: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """{"labels": ["negative", "positive"], "matrix": [[tn, fp], [fn, tp]]} (rows: truth, columns: predicted)."""
    tn = fp = fn = tp = 0
    for y, p in zip(labels, probs):
        pred = p >= threshold
        if y >= 0.5:
            tp, fn = tp + pred, fn + (not pred)
        else:
            fp, tn = fp + pred, tn + (not pred)
    return {"labels": ["negative", "positive"], "matrix": [[int(tn), int(fp)], [int(fn), int(tp)]]}


def calibration_png(labels: Sequence[float], probs: Sequence[float], out: Path, bins: int = 10) -> Path:
    """A reliability diagram (mean predicted vs observed positive rate per probability bin)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(labels, probs, n_bins=bins, strategy="uniform")
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.set_xlabel("predicted probability (positive)")
    ax.set_ylabel("observed positive rate")
    ax.set_title("calibration on the test split")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
