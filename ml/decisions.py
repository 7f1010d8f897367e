"""Statistics for automatic decisions: precision bounds and confidence thresholds."""

from __future__ import annotations

import math

import numpy as np

Z_95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (sound for small n and p near 0 or 1)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def threshold_for_precision(
    confidences, correct, target: float, z: float = Z_95
) -> tuple[float | None, dict]:
    """The lowest confidence threshold whose precision's Wilson lower bound reaches `target`.

    Among predictions a human has checked, those with confidence >= t are
    auto-decidable when the lower end of the Wilson interval of their precision
    reaches `target`. Returns (threshold or None, evidence at that threshold).

    This is evidence, not a proof: every cut is scanned and the lowest passing one
    kept, so the chance that *some* cut passes by luck is larger than the interval's
    nominal 2.5% (a multiple-comparisons effect, worst among many close cuts). That is
    why automatic decisions keep being audited at the label set's audit rate.
    """
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    order = np.argsort(-conf, kind="stable")
    conf, ok = conf[order], ok[order]
    best: tuple[float | None, dict] = (None, {"n": 0, "precision": None, "lower": None})
    hits = 0
    for i in range(len(conf)):
        hits += int(ok[i])
        # Only cut between distinct confidences: equal ones fall on the same side.
        if i + 1 < len(conf) and conf[i + 1] == conf[i]:
            continue
        lower, _upper = wilson_interval(hits, i + 1, z)
        if lower >= target:
            best = (float(conf[i]), {"n": i + 1, "precision": hits / (i + 1), "lower": lower})
    return best
