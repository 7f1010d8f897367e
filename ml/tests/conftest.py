"""Shared fixtures for ml tests: real photos, memes rendered with a real font."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    """The two real photographs scikit-learn ships (a temple, a flower)."""
    from sklearn.datasets import load_sample_images

    data = load_sample_images()
    return {
        Path(name).stem: Image.fromarray(img)
        for name, img in zip(data.filenames, data.images, strict=True)
    }


def render_meme(background: Image.Image, caption: str, size: int = 256) -> Image.Image:
    """White text with a black outline at the top of a photo, as memes are made."""
    img = background.convert("RGB").resize((size, size))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, max(12, size // 10))
    draw.text(
        (size // 2, size // 20),
        caption.upper(),
        font=font,
        fill="white",
        anchor="ma",
        stroke_width=max(1, size // 100),
        stroke_fill="black",
    )
    return img


def make_rule_dataset(folder: Path, n: int, seed: int = 0, rule: str = "image") -> Path:
    """Memes whose label follows a rule; writes images and a labels.csv, returns its path.

    rule="image": warm backgrounds are 'warm', cool ones 'cool', captions random.
    rule="text": the caption says "sunshine" ('warm') or "snowstorm" ('cool'),
    backgrounds are random.
    rule="both": half of the memes show the rule in the picture (and say "cloudy"), the
    other half in the word (on a grey picture), so one modality alone is right about 75%
    of the time and only a model that reads both gets them all.
    """
    rng = np.random.default_rng(seed)
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    words = ["when", "monday", "cat", "pizza", "exam", "boss", "weekend", "dog", "code", "coffee"]
    rows = []
    for i in range(n):
        warm = i % 2 == 0
        if rule == "image":
            base = np.array([200, 60, 40]) if warm else np.array([40, 80, 200])
            caption = " ".join(rng.choice(words, size=4))
        elif rule == "both":
            filler = list(rng.choice(words, size=3))
            if (i // 2) % 2 == 0:  # the picture tells
                base = np.array([200, 60, 40]) if warm else np.array([40, 80, 200])
                word = "cloudy"
            else:  # the word tells
                base = np.array([120, 120, 120])
                word = "sunshine" if warm else "snowstorm"
            filler.insert(int(rng.integers(0, 4)), word)
            caption = " ".join(filler)
        else:
            base = np.array([200, 60, 40]) if rng.random() < 0.5 else np.array([40, 80, 200])
            filler = list(rng.choice(words, size=3))
            filler.insert(int(rng.integers(0, 4)), "sunshine" if warm else "snowstorm")
            caption = " ".join(filler)
        noise = rng.integers(-40, 40, size=(64, 64, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        # For the text rule the picture shows other words, so only the text tells.
        shown = caption if rule == "image" else " ".join(rng.choice(words, size=3))
        img = render_meme(Image.fromarray(pixels), shown, size=128)
        name = f"image_{i}.png"
        img.save(images / name)
        rows.append(
            {
                "image_name": name,
                "text_corrected": caption,
                "text_ocr": caption,
                "label": "warm" if warm else "cool",
            }
        )
    path = folder / "labels.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def no_network(monkeypatch):
    """Fail any attempt to reach the network, as on a machine without internet."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
