"""Examples, label sets and the Memotion loader."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class LabelSet:
    name: str
    classes: tuple[str, ...]

    def __post_init__(self):
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"label set {self.name!r} needs two or more distinct classes")


SENTIMENT = LabelSet("sentiment", ("positive", "negative"))

# The original project's mapping of Memotion's five sentiment values.
MEMOTION_SENTIMENT_MAP = {
    "very_positive": "positive",
    "positive": "positive",
    "neutral": "negative",
    "negative": "negative",
    "very_negative": "negative",
}


@dataclass
class Example:
    """One labelled meme: where its image is, its text and its label.

    `image` is a path or the raw bytes; `image_sha256` identifies the bytes
    (features are cached by it and duplicates grouped by it). `text` is what the
    model reads when serving (OCR text, then the caption); `alt_text`, when set, is
    another reading of the same meme (a human transcription or correction) that
    training adds as an extra row of the same meme, never scored.
    """

    image: str | Path | bytes
    text: str
    label: str
    image_sha256: str = field(default="")
    key: str = ""
    alt_text: str = ""

    def __post_init__(self):
        if not self.image_sha256:
            data = self.image if isinstance(self.image, bytes) else Path(self.image).read_bytes()
            self.image_sha256 = hashlib.sha256(data).hexdigest()
        if not self.key:
            self.key = self.image_sha256


def normalise_text(text: str) -> str:
    """Lower-case words only: identical captions compare equal after this."""
    return " ".join(re.findall(r"[a-z0-9']+", (text or "").lower()))


def text_sha256(text: str) -> str:
    return hashlib.sha256((text or "").strip().encode("utf-8")).hexdigest()


def read_labelled_csv(
    csv_path: str | Path,
    images_dir: str | Path,
    label_column: str,
    text_columns: tuple[str, ...] = ("text_corrected", "text_ocr"),
    image_column: str = "image_name",
    label_map: dict[str, str] | None = None,
) -> tuple[list[Example], list[tuple[int, str]]]:
    """Read a labelled CSV; returns examples and (row number, problem) pairs.

    The first non-empty text column wins, so Memotion's human-corrected text
    is used and its machine OCR fills the gaps. A bad row is reported, never
    fatal.
    """
    images_dir = Path(images_dir)
    examples, problems = [], []
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            name = (row.get(image_column) or "").strip()
            raw = (row.get(label_column) or "").strip()
            label = label_map.get(raw) if label_map else raw
            if not name or not raw:
                problems.append((row_no, "missing image name or label"))
                continue
            if label is None:
                problems.append((row_no, f"unmapped label {raw!r}"))
                continue
            path = images_dir / Path(name).name
            if not path.is_file():
                problems.append((row_no, f"missing image {name}"))
                continue
            text = next((row[c] for c in text_columns if (row.get(c) or "").strip()), "")
            examples.append(Example(image=path, text=text.strip(), label=label, key=name))
    return examples, problems


def memotion_sentiment(data_dir: str | Path) -> list[Example]:
    """The Memotion memes with the original positive/negative mapping."""
    data_dir = Path(data_dir)
    examples, _problems = read_labelled_csv(
        data_dir / "labels.csv",
        data_dir / "images",
        label_column="overall_sentiment",
        label_map=MEMOTION_SENTIMENT_MAP,
    )
    return examples
