"""The one definition of each metric: macro-F1, AUROC, ECE and its reliability bins.

The gate, the training reports, the benchmarks and the moderators' dashboard all read
these, so a figure means the same wherever it is shown. Plain numpy: the dashboard runs
in the web process, which must not import scikit-learn (a test checks it).
"""

from __future__ import annotations

import numpy as np

RELIABILITY_BINS = 10


def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    """matrix[i, j]: examples of class i predicted as class j."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def per_class_f1(matrix: np.ndarray) -> np.ndarray:
    tp = np.diag(matrix).astype(float)
    denom = 2 * tp + (matrix.sum(axis=0) - tp) + (matrix.sum(axis=1) - tp)
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def macro_f1(y_true, y_pred, n_classes: int) -> float:
    """Unweighted mean F1 over *all* classes of the label set.

    A class the model never predicts and nobody labelled counts as F1 0, the
    same as scikit-learn's ``f1_score(labels=range(k), zero_division=0)``:
    leaving it out would reward a model for ignoring a class.
    """
    return float(per_class_f1(confusion(y_true, y_pred, n_classes)).mean())


def _binary_auroc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    # Mann-Whitney U with mid-ranks for ties: equals the area under the ROC curve.
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=float)
    _, start, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mid = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(mid, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auroc(y_true, probs) -> float | None:
    """AUROC of the last class's probability (two classes) or the one-vs-rest mean.

    None when it is undefined: fewer than two classes present, or (more than two
    classes) a class absent from ``y_true``.
    """
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    k = probs.shape[1] if probs.ndim == 2 else 0
    if len(y_true) == 0 or k < 2:
        return None
    if k == 2:
        return _binary_auroc(y_true == 1, probs[:, 1])
    scores = [_binary_auroc(y_true == c, probs[:, c]) for c in range(k)]
    return None if any(s is None for s in scores) else float(np.mean(scores))


def reliability_bins(y_true, probs, n_bins: int = RELIABILITY_BINS) -> list[dict]:
    """Confidence of the predicted class against its accuracy, in equal-width bins.

    A confidence c falls in bin ``min(floor(c * n_bins), n_bins - 1)``. Empty bins are
    included (count 0, confidence and accuracy None) so every caller draws the same axis.
    """
    probs = np.asarray(probs, dtype=float)
    y_true = np.asarray(y_true, dtype=int)
    if len(probs) == 0:
        conf, correct = np.zeros(0), np.zeros(0, bool)
    else:
        conf = probs.max(axis=1)
        correct = probs.argmax(axis=1) == y_true
    return reliability_bins_from(conf, correct, n_bins)


def reliability_bins_from(confidences, correct, n_bins: int = RELIABILITY_BINS) -> list[dict]:
    """The same bins from each prediction's confidence and whether it was right."""
    conf = np.asarray(confidences, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    index = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    bins = []
    for i in range(n_bins):
        sel = index == i
        count = int(sel.sum())
        bins.append(
            {
                "lo": i / n_bins,
                "hi": (i + 1) / n_bins,
                "count": count,
                "confidence": float(conf[sel].mean()) if count else None,
                "accuracy": float(correct[sel].mean()) if count else None,
            }
        )
    return bins


def ece_from_bins(bins: list[dict]) -> float | None:
    """Expected calibration error: the count-weighted |accuracy - confidence| over bins."""
    total = sum(b["count"] for b in bins)
    if total == 0:
        return None
    return float(
        sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"]) / total
    )


def expected_calibration_error(y_true, probs, n_bins: int = RELIABILITY_BINS) -> float | None:
    return ece_from_bins(reliability_bins(y_true, probs, n_bins))


def log_loss(y_true, probs) -> float | None:
    y_true = np.asarray(y_true, dtype=int)
    if len(y_true) == 0:
        return None
    probs = np.clip(np.asarray(probs, dtype=float), 1e-7, 1.0)
    probs = probs / probs.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probs[np.arange(len(y_true)), y_true])))
