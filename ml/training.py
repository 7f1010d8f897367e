"""Train the fusion head on cached encoder features."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .data import Example, normalise_text
from .encoders import EncoderConfig
from .evaluation import compute_metrics
from .features import FeatureCache, extract_features
from .fusion import HeadConfig, create_fusion_head, export_head_onnx
from .model import FusionModel, softmax


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters; the defaults follow the original design where it held up."""

    label_set: str = "sentiment"
    classes: tuple[str, ...] = ("positive", "negative")
    encoders: EncoderConfig = field(default_factory=EncoderConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    # The original 1e-4 and 1e-3 score the same on grouped cross-validation of
    # Memotion (bench/sweep_head.py, docs/benchmarks.md); 1e-3 stops after ~5
    # epochs instead of ~16, so retraining is three times faster.
    learning_rate: float = 1e-3
    epochs: int = 20
    patience: int = 3
    batch_size: int = 32
    val_fraction: float = 0.2
    class_weights: bool = True
    tune_priors: bool = True
    seed: int = 42
    feature_cache: str | None = None
    progress: bool = False


def duplicate_groups(examples: list[Example], extra: list | None = None) -> np.ndarray:
    """Group ids that put byte-identical images and identical captions together.

    `extra` optionally gives one more key per example (e.g. a repost cluster)
    whose equal values must also stay on one side of a split.
    """
    parent = list(range(len(examples)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict = {}
    for i, ex in enumerate(examples):
        keys = [("img", ex.image_sha256)]
        for reading in (ex.text, ex.alt_text):
            text = normalise_text(reading)
            if text:
                keys.append(("txt", text))
        if extra is not None and extra[i] is not None:
            keys.append(("extra", extra[i]))
        for key in keys:
            j = first_seen.setdefault(key, i)
            parent[find(i)] = find(j)
    roots = [find(i) for i in range(len(examples))]
    _, ids = np.unique(roots, return_inverse=True)
    return ids


def group_split(y: np.ndarray, groups: np.ndarray, test_fraction: float, seed: int):
    """Stratified split that keeps every group on one side; returns (train, test) indices."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = max(2, round(1 / test_fraction))
    counts = np.bincount(y)
    if len(y) < n_splits or (counts[counts > 0] < 2).any():
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(y))
        cut = max(1, int(len(y) * test_fraction))
        return np.sort(order[cut:]), np.sort(order[:cut])
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    train_idx, test_idx = next(splitter.split(np.zeros(len(y)), y, groups))
    return train_idx, test_idx


def stable_holdout(examples: list[Example], groups: np.ndarray, fraction: float) -> np.ndarray:
    """A held-out mask decided by content hashes, not by a random draw.

    A group is held out when the SHA-256 of its smallest image hash falls in
    the first `fraction` of the hash space. The same memes are therefore held
    out in every run and in every later retrain, as the data grows, so a gate
    split never leaks into a training set.
    """
    representative: dict[int, str] = {}
    for g, ex in zip(groups, examples, strict=True):
        if g not in representative or ex.image_sha256 < representative[g]:
            representative[g] = ex.image_sha256
    held = {
        g: int(hashlib.sha256(f"holdout:{rep}".encode()).hexdigest()[:8], 16) / 2**32 < fraction
        for g, rep in representative.items()
    }
    return np.array([held[g] for g in groups], dtype=bool)


def tune_prior_shift(y_true: np.ndarray, logits: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Per-class logit offsets that maximise macro-F1 on validation data."""
    from sklearn.metrics import f1_score

    k = logits.shape[1]
    shift = np.zeros(k, dtype=np.float32)
    grid = np.arange(-3.0, 3.0001, 0.05, dtype=np.float32)

    def score(s):
        pred = (logits + s).argmax(axis=1)
        return f1_score(y_true, pred, average="macro", labels=list(range(k)), zero_division=0)

    best = score(shift)
    for _ in range(rounds):
        improved = False
        for c in range(1, k):  # class 0 is the reference
            for v in grid:
                trial = shift.copy()
                trial[c] = v
                s = score(trial)
                # Prefer the smallest move among equals: it generalises better.
                if s > best + 1e-9 or (abs(s - best) <= 1e-9 and abs(v) < abs(shift[c])):
                    best, shift, improved = s, trial, True
        if not improved:
            break
    return shift


def fit_temperature(y_true: np.ndarray, logits: np.ndarray, smoothing: float = 0.01) -> float:
    """The temperature that minimises validation log-loss (Guo et al., 2017).

    The targets are smoothed a little: on a validation set the model separates
    perfectly, plain log-loss keeps falling as the temperature goes to zero,
    which would make every later prediction absurdly confident.
    """
    from scipy.optimize import minimize_scalar

    y_true = np.asarray(y_true)
    if len(y_true) == 0 or len(np.unique(y_true)) < 2:
        return 1.0
    k = logits.shape[1]
    targets = np.full((len(y_true), k), smoothing / k)
    targets[np.arange(len(y_true)), y_true] += 1.0 - smoothing

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.mean(np.sum(targets * np.log(np.clip(p, 1e-12, 1.0)), axis=1)))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def _label_indices(examples: list[Example], classes: tuple[str, ...]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({e.label for e in examples} - set(index))
    if unknown:
        raise ValueError(f"labels {unknown} are not classes of this label set {list(classes)}")
    return np.array([index[e.label] for e in examples], dtype=int)


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A floor on the variance keeps features that were constant in training
    # (dead ReLU6 channels) from exploding when they are not at test time.
    return x.mean(axis=0).astype(np.float32), np.maximum(x.var(axis=0), 1e-2).astype(np.float32)


def train(
    examples: list[Example], config: TrainConfig, groups: np.ndarray | None = None
) -> FusionModel:
    """Train a fusion model; validation split, history and val metrics go to model.manifest."""
    img, txt = extract_features(
        examples, config.encoders, FeatureCache(config.feature_cache), config.progress
    )
    return train_on_features(examples, img, txt, config, groups)


def train_on_features(
    examples, img, txt, config: TrainConfig, groups=None, callback=None
) -> FusionModel:
    """Train the head on precomputed features; `callback(stage, epoch, epochs)` after each epoch."""
    import keras
    import tensorflow as tf

    from .keras_parts import ProgressBar, ValidationMetrics

    y = _label_indices(examples, config.classes)
    k = len(config.classes)
    if len(np.unique(y)) < 2:
        raise ValueError("training needs examples of at least two classes")
    groups = duplicate_groups(examples) if groups is None else groups
    tr, va = group_split(y, groups, config.val_fraction, config.seed)

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    head = create_fusion_head(
        img.shape[1], txt.shape[1], k, config.head, _stats(img[tr]), _stats(txt[tr])
    )
    head.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    weights = None
    if config.class_weights:
        counts = np.bincount(y[tr], minlength=k).astype(float)
        weights = {c: float(len(tr) / (k * counts[c])) for c in range(k) if counts[c] > 0}
    history: list[dict] = []
    callbacks = [
        ValidationMetrics(img[va], txt[va], y[va], config.classes, history),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.patience, restore_best_weights=True
        ),
        ProgressBar(config.epochs, config.progress, callback),
    ]
    head.fit(
        [img[tr], txt[tr]],
        y[tr],
        validation_data=([img[va], txt[va]], y[va]),
        epochs=config.epochs,
        batch_size=config.batch_size,
        class_weight=weights,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    onnx_head = export_head_onnx(head).SerializeToString()
    model = FusionModel(
        config.label_set, list(config.classes), config.encoders, onnx_head, np.zeros(k, np.float32)
    )
    val_logits = model.head_logits(img[va], txt[va])
    if config.tune_priors:
        model.log_prior_shift = tune_prior_shift(y[va], val_logits)
    model.temperature = fit_temperature(y[va], val_logits + model.log_prior_shift)
    val_probs = softmax((val_logits + model.log_prior_shift) / model.temperature)
    model.manifest = {
        "history": history,
        "validation": compute_metrics(y[va], val_probs, list(config.classes)),
        "split": {"train": len(tr), "validation": len(va)},
        "train_config": {
            "learning_rate": config.learning_rate,
            "epochs": config.epochs,
            "patience": config.patience,
            "batch_size": config.batch_size,
            "val_fraction": config.val_fraction,
            "seed": config.seed,
            "class_weights": weights,
            "head": config.head.to_dict(),
        },
    }
    model.keras_head = head
    return model
