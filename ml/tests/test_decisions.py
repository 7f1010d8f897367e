import pytest

from ml.decisions import threshold_for_precision, wilson_interval


def test_wilson_interval_matches_a_hand_computed_value():
    # 45 of 50: p = 0.9, z = 1.96 -> centre 0.8748, half-width 0.0885 (worked by hand).
    low, high = wilson_interval(45, 50)
    assert low == pytest.approx(0.7864, abs=1e-3)
    assert high == pytest.approx(0.9565, abs=1e-3)


def test_wilson_interval_is_honest_about_small_samples():
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0)
    assert low < 0.75  # ten out of ten does not prove 98% precision
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_the_threshold_is_the_lowest_one_that_reaches_the_target():
    # 400 confident and all correct, then 100 middling of which half are wrong.
    confidences = [0.99] * 400 + [0.7] * 100
    correct = [True] * 400 + [True, False] * 50
    threshold, evidence = threshold_for_precision(confidences, correct, target=0.98)
    assert threshold == 0.99
    assert evidence["n"] == 400 and evidence["precision"] == 1.0
    assert evidence["lower"] >= 0.98
    threshold, _ = threshold_for_precision(confidences, correct, target=0.85)
    assert threshold == 0.7  # 450/500 = 0.9, lower bound 0.87


def test_no_threshold_without_enough_evidence():
    threshold, evidence = threshold_for_precision([0.99] * 20, [True] * 20, target=0.98)
    assert threshold is None and evidence["n"] == 0
