"""Tesseract through pytesseract, with preprocessing for meme captions.

Meme captions are white letters with a black outline, or black letters on a white band,
over a photo. Tesseract binarises the whole image at once, so a busy photo swamps the
letters. Instead we upscale small images, split the pixels into near-white and near-black
layers (one of them holds the letters, clean), read each layer on its own and merge the
words by position. Figures in docs/benchmarks.md.
"""

import os
from dataclasses import dataclass

import numpy as np
import pytesseract
from PIL import Image, ImageOps

from ml.ocr.base import OcrError, normalise_whitespace, to_rgb

# Tesseract's LSTM uses OpenMP; several threads per call only fight with the other
# workers on the same machine and make tesseract slower overall.
OMP_THREAD_LIMIT = "1"


@dataclass(frozen=True)
class Word:
    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int

    @property
    def centre_y(self) -> float:
        return self.top + self.height / 2


class TesseractEngine:
    """Read text with tesseract; `preprocess=False` is the plain baseline.

    Parameters
    ----------
    preprocess : bool
        Upscale and split into bright and dark text layers before reading.
    lang : str
        Tesseract language(s), e.g. "eng".
    psm : int
        Tesseract page segmentation mode for the preprocessed layers.
    min_confidence : float
        Words tesseract is less sure of are dropped; they are mostly photo texture.
    target_side, max_upscale : int, float
        Small images are upscaled (at most `max_upscale` times) until their longer side
        reaches `target_side`: tesseract misreads letters only a few pixels tall, which
        is what a 128x128 meme has.
    max_side : int
        Larger images are downscaled to this longer side, which bounds the time taken.
    bright_threshold, dark_threshold : int
        Pixels whose channels are all above (below) these are near-white (near-black).
    timeout : float
        Seconds one tesseract call may take before it is killed.
    """

    def __init__(
        self,
        *,
        preprocess: bool = True,
        lang: str = "eng",
        psm: int = 3,
        min_confidence: float = 40.0,
        target_side: int = 1000,
        max_upscale: float = 8.0,
        max_side: int = 2400,
        bright_threshold: int = 190,
        dark_threshold: int = 70,
        timeout: float = 30.0,
    ) -> None:
        self.name = "tesseract" if preprocess else "tesseract-raw"
        self.preprocess = preprocess
        self.lang = lang
        self.psm = psm
        self.min_confidence = min_confidence
        self.target_side = target_side
        self.max_upscale = max_upscale
        self.max_side = max_side
        self.bright_threshold = bright_threshold
        self.dark_threshold = dark_threshold
        self.timeout = timeout
        os.environ.setdefault("OMP_THREAD_LIMIT", OMP_THREAD_LIMIT)
        self._check_installed()

    def read(self, image: Image.Image) -> str:
        rgb = to_rgb(image)
        if not self.preprocess:
            return normalise_whitespace(self._call(pytesseract.image_to_string, rgb, ""))
        words: list[Word] = []
        for layer in self._layers(self._resize(rgb)):
            words.extend(self._words(layer))
        return " ".join(w.text for w in _reading_order(_dedupe(words)))

    def _check_installed(self) -> None:
        try:
            pytesseract.get_tesseract_version()
            languages = pytesseract.get_languages()
        except (
            pytesseract.TesseractNotFoundError,
            pytesseract.TesseractError,
            OSError,
        ) as exc:
            raise OcrError(
                f"tesseract is not usable ({exc}); install the Debian package tesseract-ocr"
            ) from exc
        missing = [lang for lang in self.lang.split("+") if lang not in languages]
        if missing:
            raise OcrError(
                f"tesseract has no language data for {', '.join(missing)}; "
                f"install tesseract-ocr-{missing[0]}"
            )

    def _call(self, function, image: Image.Image, config: str):
        try:
            return function(image, lang=self.lang, config=config, timeout=self.timeout)
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrError(
                f"tesseract binary not found ({exc}); install the Debian package tesseract-ocr"
            ) from exc
        except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
            raise OcrError(f"tesseract failed: {exc}") from exc

    def _resize(self, rgb: Image.Image) -> Image.Image:
        longer = max(rgb.size)
        scale = min(self.target_side / longer, self.max_upscale)
        scale = max(scale, 1.0) if longer <= self.max_side else self.max_side / longer
        if scale == 1.0:
            return rgb
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        return rgb.resize(size, Image.Resampling.BICUBIC)

    def _layers(self, rgb: Image.Image) -> list[Image.Image]:
        """Return black-on-white images of the near-white and the near-black pixels."""
        pixels = np.asarray(rgb, dtype=np.int16)
        lowest, highest = pixels.min(axis=2), pixels.max(axis=2)
        bright = (lowest >= self.bright_threshold) & (highest - lowest <= 60)
        dark = highest <= self.dark_threshold
        # White letters over a white sky only stand apart once the sky is dropped; but
        # in small images the outline blurs away and the letters merge with the sky, so
        # the unfiltered bright layer is read as well.
        masks = [_letters(bright), bright, dark]
        return [ImageOps.expand(_binary(mask), border=16, fill=255) for mask in masks]

    def _words(self, layer: Image.Image) -> list[Word]:
        data = self._call(
            pytesseract.image_to_data,
            layer,
            f"--psm {self.psm}",
        )
        return _parse_tsv(data, self.min_confidence)


def _letters(mask: np.ndarray, max_height: float = 0.35) -> np.ndarray:
    """Keep the letter-sized blobs of `mask`, dropping sky, walls and specks.

    The black outline around meme letters cuts each white letter off from a white sky
    behind it, so letters are separate blobs while the sky is one tall blob.
    """
    from scipy import ndimage

    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    keep = np.zeros(count + 1, dtype=bool)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    min_area = mask.size * 2e-5
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        height = found[0].stop - found[0].start
        keep[index] = height <= max_height * mask.shape[0] and areas[index] >= min_area
    return keep[labels]


def _binary(mask: np.ndarray) -> Image.Image:
    return Image.fromarray(np.where(mask, 0, 255).astype(np.uint8), mode="L")


def _parse_tsv(tsv: str, min_confidence: float) -> list[Word]:
    rows = tsv.splitlines()
    words = []
    for row in rows[1:]:
        fields = row.split("\t")
        if len(fields) < 12:
            continue
        text = fields[11].strip()
        conf = float(fields[10])
        if not text or conf < min_confidence or not any(ch.isalnum() for ch in text):
            continue
        left, top, width, height = (int(v) for v in fields[6:10])
        words.append(Word(text, conf, left, top, width, height))
    return words


def _overlap(a: Word, b: Word) -> float:
    """Intersection over the smaller box: a word read in two layers overlaps itself."""
    dx = min(a.left + a.width, b.left + b.width) - max(a.left, b.left)
    dy = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    if dx <= 0 or dy <= 0:
        return 0.0
    return dx * dy / min(a.width * a.height, b.width * b.height)


def _dedupe(words: list[Word]) -> list[Word]:
    kept: list[Word] = []
    for word in sorted(words, key=lambda w: -w.conf):
        if all(_overlap(word, other) < 0.5 for other in kept):
            kept.append(word)
    return kept


def _reading_order(words: list[Word]) -> list[Word]:
    """Group words into lines by vertical centre, then read each line left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.centre_y):
        line = lines[-1] if lines else None
        if line and abs(word.centre_y - line[-1].centre_y) < 0.5 * max(w.height for w in line):
            line.append(word)
        else:
            lines.append([word])
    return [word for line in lines for word in sorted(line, key=lambda w: w.left)]
