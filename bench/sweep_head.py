"""Choose the fusion head's hyperparameters by grouped cross-validation.

Only the training part of the default split is used (the held-out test split
of `python -m ml train` is never looked at), so the default model's reported
test figures stay honest. Prints mean validation macro-F1 and AUROC per config.

    .venv/bin/python -m bench.sweep_head --data ../shared/data/memotion_7k --folds 3
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from ml.data import memotion_sentiment
from ml.encoders import EncoderConfig
from ml.evaluation import compute_metrics
from ml.features import FeatureCache, extract_features
from ml.fusion import HeadConfig
from ml.model import softmax
from ml.training import (
    TrainConfig,
    duplicate_groups,
    group_split,
    stable_holdout,
    train_on_features,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="../shared/data/memotion_7k")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--feature-cache", default="var/features")
    parser.add_argument("--lr", default="1e-4,1e-3")
    parser.add_argument("--units", default="64,256")
    parser.add_argument("--modality-dropout", default="0.0,0.15")
    args = parser.parse_args()

    examples = memotion_sentiment(args.data)
    img, txt = extract_features(examples, EncoderConfig(), FeatureCache(args.feature_cache))
    classes = ("positive", "negative")
    y = np.array([classes.index(e.label) for e in examples])
    groups = duplicate_groups(examples)
    # The same held-out memes as ml.pipeline.train_with_holdout: never looked at here.
    rest = np.flatnonzero(~stable_holdout(examples, groups, 0.2))
    grid = {
        "learning_rate": [float(v) for v in args.lr.split(",")],
        "branch_units": [int(v) for v in args.units.split(",")],
        "modality_dropout": [float(v) for v in args.modality_dropout.split(",")],
    }
    for lr, units, md in itertools.product(*grid.values()):
        scores = []
        for fold in range(args.folds):
            tr, va = group_split(y[rest], groups[rest], 0.2, 100 + fold)
            tr, va = rest[tr], rest[va]
            config = TrainConfig(
                learning_rate=lr,
                seed=fold,
                head=HeadConfig(branch_units=units, modality_dropout=md),
            )
            model = train_on_features(
                [examples[i] for i in tr], img[tr], txt[tr], config, groups[tr]
            )
            probs = softmax(model.head_logits(img[va], txt[va]) + model.log_prior_shift)
            m = compute_metrics(y[va], probs, list(classes))
            scores.append((m["macro_f1"], m["auroc"]))
        f1, auc = np.mean(scores, axis=0)
        print(
            f"lr={lr:g} units={units} modality_dropout={md}: macro_f1={f1:.4f} auroc={auc:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
