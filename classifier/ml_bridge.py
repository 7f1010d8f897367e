"""The one place the Django side calls into `ml`.

Models are heavy (encoders, TensorFlow), so nothing is imported or loaded at import time:
the first call in a process loads what it needs, which in a django-q2 worker happens after
the fork. Loaded models are kept per process, one per label set, keyed by artifact path:
when a new version is promoted, the next task sees a different path and loads it, with no
restart. A forked child never reuses its parent's models.
"""

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings


class ClassifierUnavailable(RuntimeError):
    """The model or the OCR engine could not be loaded."""


@dataclass(frozen=True)
class Classification:
    label: str
    probabilities: dict[str, float]
    version: str
    duration_ms: int
    explanation: dict = field(default_factory=dict)


_lock = threading.Lock()
_pid: int | None = None
_models: dict[str, tuple[str, object]] = {}  # label set -> (artifact path, model)
_ocr_engines: dict[str, object] = {}


def resolve_artifact_path(artifact_path: str) -> Path:
    """Return the absolute folder of a model version (relative paths are from BASE_DIR)."""
    path = Path(artifact_path)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def relative_artifact_path(path: str | os.PathLike) -> str:
    """Return how to store `path`: relative to BASE_DIR when inside the repository."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(absolute)


def open_image(source: bytes | str | os.PathLike):
    """Return the picture as ml sees it: RGB, upright, first frame."""
    import ml.imaging

    return ml.imaging.open_image(source)


def read_text(image) -> str:
    """Run OCR on a PIL image with the configured engine."""
    name = settings.OCR_ENGINE or ""
    with _lock:
        _forget_parent_state()
        engine = _ocr_engines.get(name)
        if engine is None:
            from ml.ocr import get_engine

            engine = get_engine(name or None)
            _ocr_engines[name] = engine
    return engine.read(image).strip()


def offensive_score(text: str) -> float:
    """Offensive-language score (0-1) of the text a model reads (OCR text + caption)."""
    from ml.signals import offensive_scores

    return float(offensive_scores([text])[0])


def nsfw_score(image) -> float | None:
    """NSFW score (0-1) of a PIL image, or None when NSFW_DETECTION is off."""
    if not settings.NSFW_DETECTION:
        return None
    from ml.signals import nsfw_scores

    return float(nsfw_scores([image])[0])


def nsfw_detector_installed() -> bool:
    """Whether the optional NSFW detector (nudenet) is installed; it is not loaded here."""
    from ml.signals.nsfw import nsfw_available

    return nsfw_available()


def classify(label_set: str, artifact_path: str, image, text: str) -> Classification:
    """Classify one image with its text using the model stored at `artifact_path`.

    With EXPLAIN_PREDICTIONS on, the same pass also says which modality decided
    and which words mattered (one batched text encoding more; see ml.explain).
    """
    import ml
    from ml.explain import classify_and_explain

    model = load_model(label_set, artifact_path)
    started = time.perf_counter()
    explanation = {}
    if settings.EXPLAIN_PREDICTIONS:
        result, why = classify_and_explain(model, image, text)
        explanation = why.to_dict()
    else:
        (result,) = ml.classify(model, [image], [text])
    duration_ms = round((time.perf_counter() - started) * 1000)
    return Classification(
        label=result.label,
        probabilities={k: float(v) for k, v in result.probabilities.items()},
        version=result.version,
        duration_ms=duration_ms,
        explanation=explanation,
    )


def load_model(label_set: str, artifact_path: str):
    """Return the model for `label_set`, loading it if this process has not yet."""
    import ml

    with _lock:
        _forget_parent_state()
        cached = _models.get(label_set)
        if cached and cached[0] == artifact_path:
            return cached[1]
        # Drop the old version first so two models are never held at once.
        _models.pop(label_set, None)
        folder = resolve_artifact_path(artifact_path)
        try:
            model = ml.load_model(folder)
        except Exception as exc:
            raise ClassifierUnavailable(f"cannot load model {folder}: {exc}") from exc
        _models[label_set] = (artifact_path, model)
        return model


def loaded_models() -> dict[str, str]:
    """Return {label set: artifact path} of the models this process holds (for tests)."""
    with _lock:
        _forget_parent_state()
        return {name: path for name, (path, _) in _models.items()}


def _forget_parent_state() -> None:
    # Called with _lock held. A model loaded before a fork (TensorFlow sessions, thread
    # pools) is not safe to use in the child: each process loads its own.
    global _pid
    if _pid != os.getpid():
        _models.clear()
        _ocr_engines.clear()
        _pid = os.getpid()
