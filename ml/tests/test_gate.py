"""The promotion gate: paired bootstrap of the differences, a minimum gate, baselines."""

import numpy as np

from ml.gate import GateConfig, evaluate_gate, paired_bootstrap

CLASSES = ["hateful", "not_hateful"]


def scores(y, skill, rng):
    """Probabilities whose quality grows with `skill` (0: noise)."""
    logit = skill * (2 * np.asarray(y) - 1) + rng.normal(0, 1, len(y))
    p1 = 1 / (1 + np.exp(-logit))
    return np.column_stack([1 - p1, p1])


def test_it_approves_a_model_that_is_not_worse_on_a_large_gate():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 200)
    old, new = scores(y, 1.0, rng), scores(y, 1.5, rng)
    gate = evaluate_gate(y, new, CLASSES, probs_active=old, active_name="v1")
    assert gate["sufficient"] and gate["approved"], gate["reason"]
    assert gate["f1_ci"][0] <= gate["f1_diff"] <= gate["f1_ci"][1]
    assert gate["auroc_diff"] > 0 and gate["per_class"] == {"hateful": 200, "not_hateful": 200}
    assert "95% paired bootstrap" in gate["reason"]


def test_it_refuses_a_worse_model():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 200)
    gate = evaluate_gate(
        y, scores(y, 0.3, rng), CLASSES, probs_active=scores(y, 2.0, rng), active_name="v1"
    )
    assert gate["sufficient"] and not gate["approved"]
    assert gate["f1_ci"][1] < 0 and "may be worse than v1" in gate["reason"]


def test_a_tiny_gate_refuses_automatic_promotion_even_for_a_better_model():
    rng = np.random.default_rng(2)
    y = np.array([0, 0, 1, 1, 1])  # the 3-meme gates of issue 11, a little bigger
    gate = evaluate_gate(
        y, scores(y, 5.0, rng), CLASSES, probs_active=scores(y, 0.0, rng), active_name="v1"
    )
    assert not gate["sufficient"] and not gate["approved"]
    assert gate["reason"].startswith("gate too small") and "hateful: 2 of 30" in gate["reason"]
    assert gate["memes"] == 5


def test_a_first_model_must_beat_the_majority_and_prior_baselines():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], 60)
    good = evaluate_gate(y, scores(y, 2.0, rng), CLASSES, y_train=y)
    assert good["approved"] and "beats both" in good["reason"]
    assert set(good["baselines"]) == {"majority_class", "class_prior"}
    noise = evaluate_gate(y, scores(y, 0.0, rng), CLASSES, y_train=y)
    assert not noise["approved"] and "does not beat both" in noise["reason"]


def test_the_bootstrap_is_paired_and_reproducible():
    rng = np.random.default_rng(4)
    y = np.repeat([0, 1], 50)
    p = scores(y, 1.0, rng)
    same = paired_bootstrap(y, p, p, GateConfig(resamples=1000))
    # The same model against itself: every resample gives exactly 0.
    assert same["f1_ci"] == [0.0, 0.0] and same["auroc_ci"] == [0.0, 0.0]
    q = scores(y, 1.0, rng)
    assert paired_bootstrap(y, p, q) == paired_bootstrap(y, p, q)
