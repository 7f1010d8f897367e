"""Quality of the shipped default model on its held-out split, beside the baselines.

The held-out memes are chosen by content hash (ml.training.stable_holdout), the
same ones `python -m ml train` held out when it trained the shipped model, so
no meme scored here was seen in training. Baselines are fitted on the rest.

    .venv/bin/python -m bench.quality [--feature-cache var/features]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ml
from ml.data import memotion_sentiment
from ml.evaluation import baselines, compute_metrics
from ml.features import FeatureCache, extract_features
from ml.training import duplicate_groups, stable_holdout

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "memotion_7k"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--feature-cache", default="var/features")
    args = parser.parse_args()
    model = ml.load_model(ml.default_model_path("sentiment"))
    examples = memotion_sentiment(args.data)
    held = stable_holdout(examples, duplicate_groups(examples), 0.2)
    rest, test = np.flatnonzero(~held), np.flatnonzero(held)
    img, txt = extract_features(
        [examples[i] for i in test], model.encoders, FeatureCache(args.feature_cache), progress=True
    )
    y = np.array([model.classes.index(e.label) for e in examples])
    rows = {
        "fusion model (shipped)": compute_metrics(
            y[test], model.probabilities_from_features(img, txt), model.classes
        )
    }
    rows.update(
        baselines(
            y[rest],
            [examples[i].text for i in rest],
            y[test],
            [examples[i].text for i in test],
            model.classes,
        )
    )
    print(f"{model.version} on {len(test)} held-out Memotion memes ({len(rest)} others)")
    print(f"{'':24} {'macro-F1':>9} {'AUROC':>7} {'accuracy':>9} {'log-loss':>9}")
    for name, m in rows.items():
        auroc = "n/a" if m["auroc"] is None else f"{m['auroc']:.4f}"
        log_loss = "n/a" if m["log_loss"] is None else f"{m['log_loss']:.4f}"
        print(f"{name:24} {m['macro_f1']:>9.4f} {auroc:>7} {m['accuracy']:>9.4f} {log_loss:>9}")


if __name__ == "__main__":
    main()
