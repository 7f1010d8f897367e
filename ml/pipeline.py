"""Train with a held-out test split and produce the full evaluation report."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .data import Example
from .evaluation import (
    baselines,
    compute_metrics,
    expected_calibration_error,
    plot_confusion_matrix,
    plot_curves,
    plot_reliability,
    reliability_bins,
)
from .features import FeatureCache, extract_features
from .model import FusionModel
from .training import TrainConfig, duplicate_groups, stable_holdout, train_on_features


@dataclass
class Outcome:
    model: FusionModel
    report: dict
    plots: dict[str, bytes]
    test_keys: list[str]


def data_fingerprint(examples: list[Example]) -> str:
    """Identifies the exact labelled data a model was trained on."""
    digest = hashlib.sha256()
    for key in sorted(
        f"{e.image_sha256}:{e.label}:{hashlib.sha256(e.text.encode()).hexdigest()}"
        for e in examples
    ):
        digest.update(key.encode())
    return digest.hexdigest()


def report_for(
    model: FusionModel, y_test, probs, baseline_metrics=None, uncalibrated=None
) -> tuple[dict, dict[str, bytes]]:
    """Metrics, reliability and plots of `model` on a test (or gate) split.

    `uncalibrated` (the probabilities before temperature scaling) adds the
    calibration before/after: expected calibration error and both curves.
    """
    test = compute_metrics(y_test, probs, model.classes)
    bins = reliability_bins(y_test, probs)
    report = {
        "test": test,
        "baselines": baseline_metrics or {},
        "validation": model.manifest.get("validation"),
        "history": model.manifest.get("history", []),
        "reliability": bins,
    }
    series = {"calibrated": bins}
    if uncalibrated is not None:
        before = reliability_bins(y_test, uncalibrated)
        series = {"before temperature scaling": before, "after": bins}
        report["calibration"] = {
            "method": "temperature scaling, fitted on the validation split",
            "temperature": model.temperature,
            "ece_before": expected_calibration_error(y_test, uncalibrated),
            "ece_after": expected_calibration_error(y_test, probs),
            "reliability_before": before,
        }
    plots = {
        "report/confusion_matrix.png": plot_confusion_matrix(
            test["confusion_matrix"], model.classes
        ),
        "report/reliability.png": plot_reliability(series),
    }
    if report["history"]:
        plots["report/curves.png"] = plot_curves(report["history"])
    return report, plots


def train_with_holdout(
    examples: list[Example],
    config: TrainConfig,
    test_fraction: float = 0.2,
    groups: np.ndarray | None = None,
) -> Outcome:
    """Split off a test set (groups kept whole), train on the rest, evaluate both and baselines."""
    img, txt = extract_features(
        examples, config.encoders, FeatureCache(config.feature_cache), config.progress
    )
    index = {c: i for i, c in enumerate(config.classes)}
    y = np.array([index[e.label] for e in examples])
    groups = duplicate_groups(examples) if groups is None else groups
    held_out = stable_holdout(examples, groups, test_fraction)
    rest, test = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    model = train_on_features(
        [examples[i] for i in rest], img[rest], txt[rest], config, groups[rest]
    )
    probs = model.probabilities_from_features(img[test], txt[test])
    raw = model.probabilities_from_features(img[test], txt[test], calibrated=False)
    base = baselines(
        y[rest],
        [examples[i].text for i in rest],
        y[test],
        [examples[i].text for i in test],
        list(config.classes),
        config.seed,
    )
    report, plots = report_for(model, y[test], probs, base, uncalibrated=raw)
    report["counts"] = {
        "examples": len(examples),
        "train": model.manifest["split"]["train"],
        "validation": model.manifest["split"]["validation"],
        "test": len(test),
        "per_class": {c: int((y == i).sum()) for c, i in index.items()},
    }
    report["data_fingerprint"] = data_fingerprint(examples)
    return Outcome(model, report, plots, [examples[i].key for i in test])
