"""OCR behind a small interface, so a better engine can be swapped in.

    from ml import ocr
    text = ocr.get_engine().read(pil_image)   # raises ocr.OcrError if the engine is broken

The default engine is chosen by bench/ocr_bench.py (figures in docs/benchmarks.md) and
can be overridden with the MEMESENSE_OCR_ENGINE environment variable.
"""

import os
import threading
from collections.abc import Callable

from ml.ocr.base import OcrEngine, OcrError

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENV_VAR",
    "OcrEngine",
    "OcrError",
    "get_engine",
]

ENV_VAR = "MEMESENSE_OCR_ENGINE"
DEFAULT_ENGINE = "rapidocr"


def _tesseract() -> OcrEngine:
    from ml.ocr.tesseract import TesseractEngine

    return TesseractEngine()


def _tesseract_raw() -> OcrEngine:
    from ml.ocr.tesseract import TesseractEngine

    return TesseractEngine(preprocess=False)


def _rapidocr() -> OcrEngine:
    from ml.ocr.rapid import RapidOcrEngine

    return RapidOcrEngine()


# Factories, not instances: engines load binaries and models, which must happen lazily
# in the worker process that uses them, never at import time.
ENGINES: dict[str, Callable[[], OcrEngine]] = {
    "rapidocr": _rapidocr,
    "tesseract": _tesseract,
    "tesseract-raw": _tesseract_raw,
}

_cache: dict[str, OcrEngine] = {}
_cache_pid: int | None = None
_lock = threading.Lock()


def get_engine(name: str | None = None) -> OcrEngine:
    """Return the named engine (default: $MEMESENSE_OCR_ENGINE or DEFAULT_ENGINE).

    The engine is created on first use and reused for the life of the process; a
    forked child creates its own, as onnxruntime sessions must not cross a fork.
    Raises OcrError for an unknown name or an engine that cannot start.
    """
    global _cache_pid
    if name is None:
        name = os.environ.get(ENV_VAR, "").strip() or DEFAULT_ENGINE
    key = name.strip().lower()
    if key not in ENGINES:
        raise OcrError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINES)}")
    with _lock:
        if _cache_pid != os.getpid():
            _cache.clear()
            _cache_pid = os.getpid()
        if key not in _cache:
            _cache[key] = ENGINES[key]()
        return _cache[key]
