"""A trained fusion model as served: encoders + ONNX head + decision priors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .encoders import EncoderConfig, encoders_for
from .imaging import open_image
from .lexical import LexicalVectorizer


class ModelError(RuntimeError):
    """A model folder is missing, corrupt, partial or unusable."""


@dataclass
class Result:
    label: str
    probabilities: dict[str, float]
    version: str


@dataclass
class FusionModel:
    """Everything needed to classify a meme with one model version.

    `log_prior_shift` is added to the head's logits: it moves the decision
    boundary to the point chosen on validation data for macro-F1 (a class
    prior correction), so the reported probabilities and the label agree.
    """

    label_set: str
    classes: list[str]
    encoders: EncoderConfig
    head_onnx: bytes
    log_prior_shift: np.ndarray
    # Temperature scaling fitted on validation data (1.0: uncalibrated). Dividing
    # the shifted logits by it never changes the label, only the confidence.
    temperature: float = 1.0
    version: str = "unsaved"
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    # TF-IDF of the text for heads with a lexical part (ml.lexical); None when the head
    # reads encoder features only. Such a head needs the texts, not just their features.
    lexical: LexicalVectorizer | None = field(default=None, repr=False)
    keras_head: object = field(default=None, repr=False)  # set by training, not served
    _session: object = field(default=None, repr=False)

    @property
    def session(self):
        if self._session is None:
            from .encoders import _session

            self._session = _session(self.head_onnx)
        return self._session

    def head_logits(
        self, image_features, text_features, image_mask=None, text_mask=None, texts=None
    ) -> np.ndarray:
        n = len(image_features)
        ones = np.ones((n, 1), dtype=np.float32)
        feed = {
            "image": np.asarray(image_features, dtype=np.float32),
            "text": np.asarray(text_features, dtype=np.float32),
            "image_mask": ones
            if image_mask is None
            else np.asarray(image_mask, np.float32).reshape(n, 1),
            "text_mask": ones
            if text_mask is None
            else np.asarray(text_mask, np.float32).reshape(n, 1),
        }
        if self.lexical is not None:
            if texts is None or len(texts) != n:
                raise ValueError(f"{self.version} reads the words of the text: pass the texts")
            feed["lexical"] = self.lexical.transform(list(texts))
        return self.session.run(["logits"], feed)[0]

    def probabilities_from_features(
        self, image_features, text_features, calibrated: bool = True, *, texts=None, **masks
    ) -> np.ndarray:
        if len(image_features) == 0:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits = (
            self.head_logits(image_features, text_features, texts=texts, **masks)
            + self.log_prior_shift
        )
        return softmax(logits / self.temperature if calibrated else logits)

    def encode(self, images, texts) -> tuple[np.ndarray, np.ndarray]:
        image_encoder, text_encoder = encoders_for(self.encoders)
        pictures = [open_image(img) for img in images]
        return image_encoder.encode(pictures), text_encoder.encode([t or "" for t in texts])


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def predict(model: FusionModel, images, texts) -> np.ndarray:
    """Probabilities (n, n_classes) for images (PIL, bytes or paths) and their texts."""
    images, texts = list(images), list(texts)
    if len(images) != len(texts):
        raise ValueError(f"{len(images)} images but {len(texts)} texts")
    return model.probabilities_from_features(*model.encode(images, texts), texts=texts)


def classify(model: FusionModel, images, texts) -> list[Result]:
    probs = predict(model, images, texts)
    return [
        Result(
            label=model.classes[int(row.argmax())],
            probabilities={c: float(p) for c, p in zip(model.classes, row, strict=True)},
            version=model.version,
        )
        for row in probs
    ]
