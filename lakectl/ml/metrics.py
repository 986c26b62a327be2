"""Classification metrics of (label, probability) pairs, the confusion matrix and a calibration plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


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


# --- score distribution and its drift (lakectl monitor models) -------------------------------------

PSI_EPSILON = 1e-4  # share given to an empty bin, so that PSI stays finite


def score_bin(score: float, bins: int = 10) -> int:
    """The bin of a 0-1 score among `bins` equal bins; 1.0 falls in the last one (the SQL of
    lakectl/monitor/model_health.py bins the same way: LEAST(FLOOR(score * bins), bins - 1))."""
    return min(max(int(score * bins), 0), bins - 1)


def score_histogram(probs: Sequence[float], bins: int = 10) -> dict[str, Any]:
    """{"edges": [0, 0.1, ..., 1], "counts": [...], "rows": n}: the distribution of scores in fixed bins."""
    counts = [0] * bins
    for p in probs:
        counts[score_bin(float(p), bins)] += 1
    return {"edges": [round(i / bins, 10) for i in range(bins + 1)], "counts": counts, "rows": sum(counts)}


def psi(expected: Sequence[float], actual: Sequence[float], epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of `actual` against `expected` (counts or shares per bin, same bins):
    sum over bins of (a - e) * ln(a / e) on shares, an empty bin counting as `epsilon`.
    The usual reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift."""
    import math

    if len(expected) != len(actual):
        raise ValueError(f"PSI needs the same bins: {len(expected)} expected vs {len(actual)} actual")
    e_total, a_total = float(sum(expected)), float(sum(actual))
    if e_total <= 0 or a_total <= 0:
        raise ValueError("PSI needs at least one row on each side")
    value = 0.0
    for e, a in zip(expected, actual):
        e_share, a_share = max(e / e_total, epsilon), max(a / a_total, epsilon)
        value += (a_share - e_share) * math.log(a_share / e_share)
    return value


def psi_reading(value: float | None) -> str | None:
    """stable (< 0.1), moderate (0.1-0.25) or shift (> 0.25); None for an unknown PSI."""
    if value is None:
        return None
    return "stable" if value < 0.1 else "moderate" if value <= 0.25 else "shift"
