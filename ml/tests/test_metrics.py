"""One definition of each metric, equal to scikit-learn's where scikit-learn has one."""

import numpy as np
import pytest
from sklearn import metrics as skm

from ml import metrics


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    probs = rng.dirichlet(np.ones(3), 300)
    probs[np.arange(300), y] += 0.3
    return y, probs / probs.sum(axis=1, keepdims=True)


def test_it_computes_macro_f1_over_all_classes_as_scikit_learn_does(data):
    y, probs = data
    pred = probs.argmax(1)
    assert metrics.macro_f1(y, pred, 3) == pytest.approx(skm.f1_score(y, pred, average="macro"))
    # A class nobody predicted nor labelled still counts (as 0) in a label set of 4.
    expected = skm.f1_score(y, pred, average="macro", labels=[0, 1, 2, 3], zero_division=0)
    assert metrics.macro_f1(y, pred, 4) == pytest.approx(expected)


def test_it_computes_auroc_as_scikit_learn_does_ties_included(data):
    y, probs = data
    assert metrics.auroc(y, probs) == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr"))
    binary = (y == 1).astype(int)
    rounded = np.round(probs[:, 1], 1)  # many ties
    two = np.column_stack([1 - rounded, rounded])
    assert metrics.auroc(binary, two) == pytest.approx(skm.roc_auc_score(binary, rounded))
    assert metrics.auroc(np.zeros(5, int), two[:5]) is None


def test_the_ece_uses_one_binning_with_empty_bins_kept():
    probs = np.array([[0.95, 0.05], [0.85, 0.15], [0.55, 0.45], [0.35, 0.65]])
    y = np.array([0, 1, 0, 1])
    bins = metrics.reliability_bins(y, probs)
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 4
    assert bins[9]["count"] == 1 and bins[0]["count"] == 0 and bins[0]["accuracy"] is None
    expected = (abs(1 - 0.95) + abs(0 - 0.85) + abs(1 - 0.55) + abs(1 - 0.65)) / 4
    assert metrics.expected_calibration_error(y, probs) == pytest.approx(expected)
