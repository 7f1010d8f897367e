"""Which modality decided, and which caption words pushed the result.

Gradient-free and bounded: the head is run with each modality masked (replaced
by its training mean, which the head saw during training through modality
dropout), and the caption is re-encoded with one word left out at a time (every
occurrence of it), all in one batch. The image is encoded once, so the cost is one
batched text encoding and a few head rows. Probabilities are the calibrated ones, the
same scale as the prediction a person reads next to the explanation.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .encoders import encoders_for
from .imaging import open_image
from .model import FusionModel, Result

# At most this many words are occluded per caption, whatever its length: each one is a text
# encoding, and 24 doubled the time of an explained classification (docs/benchmarks.md).
MAX_PIECES = 12
TOP_WORDS = 5


@dataclass
class Explanation:
    label: str
    probability: float
    # Probability of `label` with only the image (text masked) and only the text.
    image_only: float
    text_only: float
    # How much each modality moved the probability of `label`: full minus masked.
    image_effect: float
    text_effect: float
    deciding: str  # "image", "text" or "both"
    # (word, change in the probability of `label` when it is removed,
    # sign flipped so that positive means "pushed towards the label").
    words: list[tuple[str, float]] = field(default_factory=list)
    # True: every probability above is on the calibrated scale of the prediction itself.
    # Explanations stored before this field existed were on the uncalibrated scale.
    calibrated: bool = True

    def to_dict(self) -> dict:
        data = asdict(self)
        data["words"] = [{"text": w, "effect": e} for w, e in self.words]
        return data


def _key(word: str) -> str:
    return word.strip(_PUNCTUATION).lower()


_PUNCTUATION = "\"'.,!?:;()[]{}“”‘’«»…-–—*_"


def _pieces(text: str) -> list[tuple[str, str]]:
    """(word, text without every occurrence of it) for the caption's distinct words.

    One word at a time, so the influence shown is a word's own, not a chunk's. A long
    caption has its MAX_PIECES longest distinct words occluded (first seen wins a tie):
    longer words are the content words far more often than the short function words.
    """
    tokens = re.findall(r"\S+", text or "")
    order: dict[str, str] = {}
    for token in tokens:
        key = _key(token)
        if key and key not in order:
            order[key] = token.strip(_PUNCTUATION)
    keys = sorted(order, key=lambda k: -len(k))[:MAX_PIECES]
    keys.sort(key=list(order).index)
    return [(order[k], " ".join(t for t in tokens if _key(t) != k)) for k in keys]


def deciding_modality(image_effect: float, text_effect: float) -> str:
    """The modality that pushed towards the label at least twice as hard as the other.

    An effect is signed: a modality that pulled the probability away from the
    label (negative effect) never "decided" it, however large the pull.
    """
    image_push, text_push = max(image_effect, 0.0), max(text_effect, 0.0)
    if image_push > 2 * text_push:
        return "image"
    if text_push > 2 * image_push:
        return "text"
    return "both"


def explain(model: FusionModel, image, text: str) -> Explanation:
    """Explain the model's decision for one meme."""
    return classify_and_explain(model, image, text)[1]


def classify_and_explain(model: FusionModel, image, text: str) -> tuple[Result, Explanation]:
    """Classify one meme and explain it, encoding the image once and all texts in one batch."""
    image_encoder, text_encoder = encoders_for(model.encoders)
    img = image_encoder.encode([open_image(image)])
    pieces = _pieces(text)
    txt = text_encoder.encode([text or ""] + [rest for _, rest in pieces])
    texts = [text or ""] + [rest for _, rest in pieces]
    calibrated = model.probabilities_from_features(img, txt[:1], texts=texts[:1])[0]
    result = Result(
        label=model.classes[int(calibrated.argmax())],
        probabilities={c: float(p) for c, p in zip(model.classes, calibrated, strict=True)},
        version=model.version,
    )
    n = 3 + len(pieces)
    img_rows = np.repeat(img, n, axis=0)
    txt_rows = np.concatenate([txt[:1], txt[:1], txt[:1], txt[1:]])
    text_rows = [texts[0]] * 3 + texts[1:]
    image_mask = np.ones(n, np.float32)
    text_mask = np.ones(n, np.float32)
    text_mask[1] = 0.0  # row 1: image only
    image_mask[2] = 0.0  # row 2: text only
    # The calibrated scale, like the prediction: a person reads "72%" in the headline and
    # the explanation's own probability of the label must say the same.
    probs = model.probabilities_from_features(
        img_rows,
        txt_rows,
        calibrated=True,
        texts=text_rows,
        image_mask=image_mask,
        text_mask=text_mask,
    )
    k = int(probs[0].argmax())
    p = float(probs[0, k])
    image_only, text_only = float(probs[1, k]), float(probs[2, k])
    image_effect, text_effect = p - text_only, p - image_only
    deciding = deciding_modality(image_effect, text_effect)
    effects = [(piece, p - float(probs[3 + i, k])) for i, (piece, _rest) in enumerate(pieces)]
    effects.sort(key=lambda we: -abs(we[1]))
    explanation = Explanation(
        label=model.classes[k],
        probability=p,
        image_only=image_only,
        text_only=text_only,
        image_effect=image_effect,
        text_effect=text_effect,
        deciding=deciding,
        words=effects[:TOP_WORDS],
    )
    return result, explanation
