"""Metrics of a model on labelled data, and the baselines it must beat.

Every figure comes from ml.metrics (one definition each) and every plot from ml.plots.
"""

from __future__ import annotations

import numpy as np

from . import metrics as M
from .metrics import expected_calibration_error, reliability_bins

__all__ = [
    "SUMMARY_KEYS",
    "baselines",
    "compute_metrics",
    "expected_calibration_error",
    "reliability_bins",
    "summary",
]


def compute_metrics(y_true: np.ndarray, probs: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, AUROC, log-loss, ECE and the confusion matrix."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=np.float64).reshape(len(y_true), len(classes))
    k = len(classes)
    y_pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, int)
    matrix = M.confusion(y_true, y_pred, k)
    tp = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = M.per_class_f1(matrix)
    n = len(y_true)
    present = len(np.unique(y_true))
    return {
        "n": int(n),
        "accuracy": float(tp.sum() / n) if n else None,
        "macro_f1": float(f1.mean()) if n else None,
        "per_class": {
            c: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion_matrix": matrix.tolist(),
        "classes": list(classes),
        "auroc": M.auroc(y_true, probs),
        "log_loss": M.log_loss(y_true, probs) if present >= 2 else None,
        "ece": expected_calibration_error(y_true, probs) if n else None,
    }


SUMMARY_KEYS = ("accuracy", "macro_f1", "auroc", "log_loss", "ece", "n")


def summary(metrics: dict) -> dict:
    """The scalar headline figures of a metrics dict (for listings and records)."""
    return {k: metrics.get(k) for k in SUMMARY_KEYS}


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
