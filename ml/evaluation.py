"""Metrics, baselines and the evaluation report (JSON + PNG plots)."""

from __future__ import annotations

import io

import numpy as np
from sklearn import metrics as skm


def compute_metrics(y_true: np.ndarray, probs: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, AUROC (one-vs-rest), log-loss, confusion matrix."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    k = len(classes)
    y_pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, int)
    labels = list(range(k))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        "n": int(len(y_true)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)) if len(y_true) else None,
        "macro_f1": float(np.mean(f)) if len(y_true) else None,
        "per_class": {
            c: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "classes": list(classes),
        "auroc": None,
        "log_loss": None,
    }
    present = np.unique(y_true)
    if len(present) >= 2:
        clipped = np.clip(probs, 1e-7, 1.0)
        clipped = clipped / clipped.sum(axis=1, keepdims=True)
        out["log_loss"] = float(skm.log_loss(y_true, clipped, labels=labels))
        if k == 2:
            out["auroc"] = float(skm.roc_auc_score(y_true == 1, probs[:, 1]))
        elif len(present) == k:
            out["auroc"] = float(
                skm.roc_auc_score(y_true, clipped, multi_class="ovr", labels=labels)
            )
    out["ece"] = expected_calibration_error(y_true, probs) if len(y_true) else None
    return out


SUMMARY_KEYS = ("accuracy", "macro_f1", "auroc", "log_loss", "ece", "n")


def summary(metrics: dict) -> dict:
    """The scalar headline figures of a metrics dict (for listings and records)."""
    return {k: metrics.get(k) for k in SUMMARY_KEYS}


def reliability_bins(y_true, probs, n_bins: int = 10) -> list[dict]:
    """Confidence of the predicted class vs its accuracy, in equal-width bins."""
    probs = np.asarray(probs)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if sel.any():
            bins.append(
                {
                    "lo": float(lo),
                    "hi": float(hi),
                    "count": int(sel.sum()),
                    "confidence": float(conf[sel].mean()),
                    "accuracy": float(correct[sel].mean()),
                }
            )
    return bins


def expected_calibration_error(y_true, probs, n_bins: int = 10) -> float:
    bins = reliability_bins(y_true, probs, n_bins)
    total = sum(b["count"] for b in bins)
    return float(
        sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / max(total, 1)
    )


def baselines(train_labels, train_texts, test_labels, test_texts, classes, seed: int = 0) -> dict:
    """Majority class, class-prior random and TF-IDF + logistic regression on one split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    k = len(classes)
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    n = len(test_labels)
    prior = np.bincount(train_labels, minlength=k) / max(len(train_labels), 1)
    majority = np.tile(np.eye(k)[prior.argmax()], (n, 1))
    rng = np.random.default_rng(seed)
    # Random labels drawn from the training prior; scores are random too, so
    # its AUROC is chance and its F1 what guessing by frequency gives.
    random_probs = (
        rng.dirichlet(np.ones(k), size=n) * 0.01 + np.eye(k)[rng.choice(k, size=n, p=prior)]
    )
    random_probs /= random_probs.sum(axis=1, keepdims=True)
    tfidf = None
    try:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x_train = vectorizer.fit_transform([t or "" for t in train_texts])
        lr = LogisticRegression(max_iter=2000, class_weight="balanced", C=1.0)
        lr.fit(x_train, train_labels)
        tfidf_probs = np.zeros((n, k))
        tfidf_probs[:, lr.classes_] = lr.predict_proba(
            vectorizer.transform([t or "" for t in test_texts])
        )
        tfidf = compute_metrics(test_labels, tfidf_probs, classes)
    except ValueError:
        pass  # no words to learn from (texts empty or all too rare): no text baseline
    return {
        "majority_class": compute_metrics(test_labels, majority, classes),
        "class_prior_random": compute_metrics(test_labels, random_probs, classes),
        "tfidf_logreg": tfidf,
    }


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def plot_confusion_matrix(matrix, classes, title="Confusion matrix") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2.5, 1.2 * len(classes) + 2))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    peak = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = "white" if matrix[i, j] > peak / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour)
    return _png(fig)


def plot_curves(history: list[dict]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = [h["epoch"] for h in history]
    for key in ("loss", "val_loss"):
        left.plot(epochs, [h.get(key) for h in history], marker="o", label=key)
    left.set_xlabel("epoch")
    left.set_title("loss")
    left.legend()
    for key in ("accuracy", "val_accuracy", "val_macro_f1", "val_auroc"):
        if any(h.get(key) is not None for h in history):
            right.plot(epochs, [h.get(key) for h in history], marker="o", label=key)
    right.set_xlabel("epoch")
    right.set_title("metrics")
    right.legend()
    return _png(fig)


def plot_reliability(
    series: dict[str, list[dict]] | list[dict], title="Reliability diagram"
) -> bytes:
    """Accuracy against confidence per bin; one line per named series of bins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(series, list):
        series = {"model": series}
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    for name, bins in series.items():
        if bins:
            ax.plot(
                [b["confidence"] for b in bins],
                [b["accuracy"] for b in bins],
                marker="o",
                label=name,
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence of predicted class")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend()
    return _png(fig)
