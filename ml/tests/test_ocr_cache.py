"""A dataset's OCR text is read once and cached by the engine's name, settings and code."""

import hashlib
import json

from ml.ocr.tesseract import TesseractEngine
from ml.ocr_cache import OcrTextCache, engine_key

from .conftest import render_meme


def test_it_reads_once_and_serves_the_text_from_the_cache(tmp_path, photos):
    path = tmp_path / "meme.png"
    render_meme(photos["flower"], "HELLO THERE", size=400).save(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = OcrTextCache(tmp_path / "ocr", TesseractEngine())
    (text,) = cache.texts([path], [sha])
    assert "HELLO" in text.upper()
    stored = cache.dir / sha[:2] / f"{sha}.json"
    assert json.loads(stored.read_text()) == {"text": text}
    stored.write_text(json.dumps({"text": "from the cache"}))
    assert cache.texts([path], [sha]) == ["from the cache"]


def test_other_engine_settings_never_share_cached_text():
    assert engine_key(TesseractEngine()) != engine_key(TesseractEngine(preprocess=False))
    assert engine_key(TesseractEngine()) == engine_key(TesseractEngine())
    assert engine_key(TesseractEngine()).startswith("tesseract-")
