"""ml.signals: the offensive-language score of a text and the NSFW score of a picture."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.signals import nsfw, nsfw_scores, offensive_scores

RELIGIOUS_HATEFUL = Path(__file__).resolve().parents[3] / "shared" / "data" / "religious_hateful"


def real_memes(n: int) -> list[Image.Image]:
    if not RELIGIOUS_HATEFUL.exists():
        pytest.skip("../shared/data/religious_hateful is not there")
    with open(RELIGIOUS_HATEFUL / "labels.csv", newline="") as f:
        names = [row["image_name"] for row in csv.DictReader(f)][:n]
    return [Image.open(RELIGIOUS_HATEFUL / "images" / name).convert("RGB") for name in names]


def test_it_scores_offensive_language_above_plain_text():
    scores = offensive_scores(
        ["you are a fucking idiot and a piece of shit", "what a lovely sunny day at the park", ""]
    )
    assert scores.shape == (3,) and scores.dtype == np.float32
    assert scores[0] > 0.8 and scores[1] < 0.2
    assert scores[2] == 0.0  # no text, nothing offensive


def test_the_nsfw_detector_runs_on_real_memes_and_scores_them_in_0_1():
    pictures = real_memes(8)
    found = nsfw.nsfw_detections(pictures)
    # It really ran: the detector finds the faces in these photos (not NSFW classes).
    assert any(d["class"].startswith("FACE_") for per_picture in found for d in per_picture)
    scores = nsfw_scores(pictures)
    assert scores.shape == (8,) and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    expected = [
        max((d["score"] for d in f if d["class"] in nsfw.NSFW_CLASSES), default=0.0) for f in found
    ]
    assert scores == pytest.approx(expected)


def test_a_picture_with_no_body_parts_scores_zero():
    plain = Image.new("RGB", (320, 240), (40, 120, 200))
    assert nsfw_scores([plain]).tolist() == [0.0]


def test_the_detector_is_loaded_once_per_process():
    nsfw_scores([Image.new("RGB", (64, 64))])
    first = nsfw._get_detector()
    assert nsfw._get_detector() is first
