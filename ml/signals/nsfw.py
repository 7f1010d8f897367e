"""NSFW score of a meme's picture, from nudenet's ONNX detector (optional, off by default).

nudenet ships its detector (a YOLOv8n exported to ONNX, 320 px input) inside the wheel and
runs it in onnxruntime, which the encoders already use: no weights are downloaded. It is
AGPL-3.0, so it is not in requirements.txt: `pip install --no-deps -r requirements-nsfw.txt`
installs it (its wheel asks for OpenCV, which rapidocr's opencv-python-headless provides) and
the app calls it only when NSFW_DETECTION is on. docs/ml.md says what the licence implies.

The detector finds body parts, covered and exposed; the score of a picture is the confidence
of its most confident *exposed* sexual body part (0.0 when there is none). Faces, feet,
bellies and armpits do not count.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image

NSFW_CLASSES = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)

_lock = threading.Lock()
_detector: tuple[int, object] | None = None  # (pid that loaded it, nudenet.NudeDetector)


class NsfwUnavailable(RuntimeError):
    """nudenet is not installed (requirements-nsfw.txt)."""


def nsfw_available() -> bool:
    """Whether nudenet is installed, without importing it (and its ONNX runtime)."""
    return importlib.util.find_spec("nudenet") is not None


def _get_detector():
    """Load the detector once per process, on first use (never at import, never across a fork)."""
    global _detector
    with _lock:
        if _detector is None or _detector[0] != os.getpid():
            try:
                from nudenet import NudeDetector
            except ImportError as exc:
                raise NsfwUnavailable(
                    "NSFW_DETECTION is on but nudenet is not installed: "
                    "pip install --no-deps -r requirements-nsfw.txt"
                ) from exc
            _detector = (os.getpid(), NudeDetector())
        return _detector[1]


def nsfw_detections(images: Sequence[Image.Image]) -> list[list[dict]]:
    """nudenet's detections per picture: [{"class", "score", "box"}, ...]."""
    detector = _get_detector()
    # nudenet reads OpenCV's BGR channel order from arrays.
    return [
        detector.detect(np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1]))
        for image in images
    ]


def nsfw_scores(images: Sequence[Image.Image]) -> np.ndarray:
    """Per picture, the confidence (0-1) of its most confident exposed sexual body part."""
    return np.array(
        [
            max((d["score"] for d in found if d["class"] in NSFW_CLASSES), default=0.0)
            for found in nsfw_detections(images)
        ],
        dtype=np.float32,
    )
