"""The promotion gate: is a new model not worse than the active one, beyond chance?

Both models score the same gate memes. A paired bootstrap resamples those memes (the same
draw for both models) and recomputes the difference new - active of macro-F1 and of AUROC;
the 2.5th and 97.5th percentiles are the 95% interval. The new model is promoted when the
lower end of the macro-F1 interval is above ``-margin`` and, where AUROC is defined, so is
the lower end of the AUROC interval: not worse beyond the margin, at the 95% level. A gate
with fewer than ``min_per_class`` memes of some class cannot tell models apart, so it never
promotes automatically. A first model of a label set (no active one) must beat both the
majority-class and the class-prior baselines on the gate, by the same test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .metrics import auroc, macro_f1


@dataclass(frozen=True)
class GateConfig:
    margin: float = 0.02
    min_per_class: int = 30
    resamples: int = 2000
    level: float = 0.95
    seed: int = 0


def paired_bootstrap(y, probs_new, probs_old, config: GateConfig = GateConfig()) -> dict:
    """Differences new - old of macro-F1 and AUROC on the gate, with bootstrap intervals."""
    y = np.asarray(y, dtype=int)
    probs_new, probs_old = np.asarray(probs_new, float), np.asarray(probs_old, float)
    k = probs_new.shape[1]
    pred_new, pred_old = probs_new.argmax(axis=1), probs_old.argmax(axis=1)
    rng = np.random.default_rng(config.seed)
    f1_diffs, auroc_diffs = [], []
    for _ in range(config.resamples):
        idx = rng.integers(0, len(y), len(y))
        yb = y[idx]
        f1_diffs.append(macro_f1(yb, pred_new[idx], k) - macro_f1(yb, pred_old[idx], k))
        a_new, a_old = auroc(yb, probs_new[idx]), auroc(yb, probs_old[idx])
        if a_new is not None and a_old is not None:
            auroc_diffs.append(a_new - a_old)
    tail = (1 - config.level) / 2 * 100
    a_new, a_old = auroc(y, probs_new), auroc(y, probs_old)
    return {
        "f1_new": macro_f1(y, pred_new, k),
        "f1_old": macro_f1(y, pred_old, k),
        "f1_diff": macro_f1(y, pred_new, k) - macro_f1(y, pred_old, k),
        "f1_ci": [float(np.percentile(f1_diffs, tail)), float(np.percentile(f1_diffs, 100 - tail))],
        "auroc_new": a_new,
        "auroc_old": a_old,
        "auroc_diff": None if a_new is None or a_old is None else a_new - a_old,
        "auroc_ci": (
            [float(np.percentile(auroc_diffs, tail)), float(np.percentile(auroc_diffs, 100 - tail))]
            if len(auroc_diffs) >= config.resamples // 2 and a_new is not None and a_old is not None
            else None
        ),
        "resamples": config.resamples,
    }


def baseline_probabilities(y_train, n: int, k: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Majority-class and class-prior baselines for n gate memes, from the training labels."""
    prior = np.bincount(np.asarray(y_train, dtype=int), minlength=k) / max(len(y_train), 1)
    majority = np.tile(np.eye(k)[prior.argmax()], (n, 1))
    # Labels drawn at the training frequencies, scores random: chance AUROC, prior F1.
    rng = np.random.default_rng(seed)
    drawn = np.eye(k)[rng.choice(k, size=n, p=prior)] + 0.01 * rng.dirichlet(np.ones(k), size=n)
    return {
        "majority_class": majority,
        "class_prior": drawn / drawn.sum(axis=1, keepdims=True),
    }


def _not_worse(comparison: dict, margin: float) -> bool:
    ok = comparison["f1_ci"][0] > -margin
    if comparison["auroc_ci"] is not None:
        ok = ok and comparison["auroc_ci"][0] > -margin
    return ok


def _beats(comparison: dict) -> bool:
    # Beating a baseline means better, not merely not worse: the interval lies above 0.
    ok = comparison["f1_ci"][0] > 0
    if comparison["auroc_ci"] is not None:
        ok = ok and comparison["auroc_ci"][0] > 0
    return ok


def evaluate_gate(
    y,
    probs_new,
    classes: list[str],
    *,
    probs_active=None,
    active_name: str = "",
    y_train=None,
    config: GateConfig = GateConfig(),
) -> dict:
    """The gate's verdict as stored on ModelVersion.metrics["gate"] and RetrainRun.gate_metrics.

    Returns {"memes", "per_class", "sufficient", "approved", "reason", "margin", "f1_diff",
    "f1_ci", "auroc_diff", "auroc_ci", "against", "level", "resamples", "min_per_class"}.
    """
    y = np.asarray(y, dtype=int)
    k = len(classes)
    per_class = {c: int((y == i).sum()) for i, c in enumerate(classes)}
    short = {c: n for c, n in per_class.items() if n < config.min_per_class}
    result = {
        "memes": int(len(y)),
        "per_class": per_class,
        "sufficient": not short,
        "approved": False,
        "reason": "",
        "margin": float(config.margin),
        "level": config.level,
        "resamples": config.resamples,
        "min_per_class": config.min_per_class,
        "against": active_name or "baselines",
        "f1_diff": None,
        "f1_ci": None,
        "auroc_diff": None,
        "auroc_ci": None,
    }
    if len(y) == 0:
        result["reason"] = "no gate memes: nothing to compare on"
        return result
    if probs_active is not None:
        comparison = paired_bootstrap(y, probs_new, probs_active, config)
        result.update(
            {key: comparison[key] for key in ("f1_diff", "f1_ci", "auroc_diff", "auroc_ci")}
        )
        verdict = _not_worse(comparison, config.margin)
        what = (
            f"macro-F1 {comparison['f1_diff']:+.3f} [{comparison['f1_ci'][0]:+.3f}, "
            f"{comparison['f1_ci'][1]:+.3f}]"
        )
        if comparison["auroc_ci"] is not None:
            what += (
                f", AUROC {comparison['auroc_diff']:+.3f} [{comparison['auroc_ci'][0]:+.3f}, "
                f"{comparison['auroc_ci'][1]:+.3f}]"
            )
        what = f"new - {active_name} on {len(y)} gate memes: {what} (95% paired bootstrap)"
        good = f"not worse than {active_name} beyond the margin {config.margin}"
        bad = f"may be worse than {active_name} by more than the margin {config.margin}"
        result["reason"] = f"{what}; {good if verdict else bad}"
    else:
        base = baseline_probabilities(y if y_train is None else y_train, len(y), k, config.seed)
        comparisons = {name: paired_bootstrap(y, probs_new, p, config) for name, p in base.items()}
        result["baselines"] = comparisons
        # The stored difference is against the stronger baseline (the harder test).
        hardest = min(comparisons.values(), key=lambda c: c["f1_ci"][0])
        result.update({key: hardest[key] for key in ("f1_diff", "f1_ci", "auroc_diff", "auroc_ci")})
        verdict = all(_beats(c) for c in comparisons.values())
        lines = ", ".join(
            f"{name} macro-F1 {c['f1_diff']:+.3f} [{c['f1_ci'][0]:+.3f}, {c['f1_ci'][1]:+.3f}]"
            for name, c in comparisons.items()
        )
        result["reason"] = (
            f"first model of the label set; against the baselines on {len(y)} gate memes: "
            f"{lines}; {'beats both' if verdict else 'does not beat both'}"
        )
    if short:
        need = ", ".join(f"{c}: {n} of {config.min_per_class}" for c, n in short.items())
        result["reason"] = (
            f"gate too small for automatic promotion ({need} memes); " + result["reason"]
        )
        result["approved"] = False
    else:
        result["approved"] = bool(verdict)
    return result


def as_dict(config: GateConfig) -> dict:
    return asdict(config)
