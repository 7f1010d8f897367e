"""Memesense's machine learning: meme (image + text) -> label probabilities.

A plain Python package: it never imports Django. Public API:

    model = load_model(path)                   # a version folder (see registry)
    probs = predict(model, images, texts)      # (n, n_classes) probabilities
    results = classify(model, images, texts)   # [Result(label, probabilities, version)]
    model = train(examples, TrainConfig(...))  # a new, unsaved model
    metrics = evaluate(model, examples)        # accuracy, macro-F1, AUROC, ...

Nothing heavy happens at import time: encoders and TensorFlow load on first use.
"""

from __future__ import annotations

from pathlib import Path

from .data import SENTIMENT, Example, LabelSet
from .encoders import EncoderConfig
from .imaging import ImageError, open_image
from .model import FusionModel, ModelError, Result, classify, predict
from .registry import list_versions, load_model, save_model
from .weights import WeightsError

# Training pulls in scikit-learn, onnx and tqdm (about 2 s): loaded on first use, so a
# web process that only serves, or imports ml.near_duplicates, never pays for it.
_LAZY = {"TrainConfig": "training", "train": "training", "HeadConfig": "fusion"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ml' has no attribute {name!r}")


SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"

__all__ = [
    "SENTIMENT",
    "EncoderConfig",
    "Example",
    "FusionModel",
    "HeadConfig",
    "ImageError",
    "LabelSet",
    "ModelError",
    "Result",
    "TrainConfig",
    "WeightsError",
    "classify",
    "default_model_path",
    "evaluate",
    "list_versions",
    "load_model",
    "open_image",
    "predict",
    "save_model",
    "train",
]


def default_model_path(label_set: str = "sentiment") -> Path:
    """The model version shipped in the repository for a label set."""
    return SHIPPED_DIR / label_set


def evaluate(model: FusionModel, examples: list[Example], feature_cache: str | None = None) -> dict:
    """Metrics of `model` on labelled examples (labels must be classes of the model)."""
    import numpy as np

    from .evaluation import compute_metrics
    from .features import FeatureCache, extract_features

    index = {c: i for i, c in enumerate(model.classes)}
    unknown = sorted({e.label for e in examples} - set(index))
    if unknown:
        raise ValueError(f"labels {unknown} are not classes of model {model.version}")
    img, txt = extract_features(examples, model.encoders, FeatureCache(feature_cache))
    probs = model.probabilities_from_features(img, txt, texts=[e.text for e in examples])
    return compute_metrics(np.array([index[e.label] for e in examples]), probs, model.classes)
