"""Offensive-language score of a meme's text, from alt-profanity-check.

alt-profanity-check (MIT) ships its trained model (a linear SVM on TF-IDF, calibrated) in the
wheel, so it works offline. It imports scikit-learn, so it is imported on first use, in the
worker, never in the web process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def offensive_scores(texts: Sequence[str]) -> np.ndarray:
    """Probability that each text is offensive language; 0.0 for an empty text."""
    texts = [t or "" for t in texts]
    scores = np.zeros(len(texts), dtype=np.float32)
    present = [i for i, t in enumerate(texts) if t.strip()]
    if present:
        from profanity_check import predict_prob

        scores[present] = predict_prob([texts[i] for i in present])
    return scores
