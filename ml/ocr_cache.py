"""OCR text of a dataset, cached on disk by image hash and OCR engine settings.

Training on what is served means training on OCR text, and OCR of 1,464 memes costs
about ten minutes of one core: it is done once and read back. The key covers the
engine's name, its public settings and the source of ml/ocr/, so a faster or better
engine (or a changed threshold) never serves text another engine read.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from tqdm import tqdm


def engine_key(engine) -> str:
    """A short digest of everything that decides what an engine reads."""
    settings = {k: v for k, v in sorted(vars(engine).items()) if not k.startswith("_")}
    digest = hashlib.sha256(json.dumps([engine.name, settings], default=str).encode())
    for source in sorted((Path(__file__).parent / "ocr").glob("*.py")):
        digest.update(source.read_bytes())
    return f"{engine.name}-{digest.hexdigest()[:16]}"


class OcrTextCache:
    """One small JSON file per (engine key, image SHA-256); writes are atomic."""

    def __init__(self, root: str | Path, engine) -> None:
        self.engine = engine
        self.dir = Path(root) / engine_key(engine)

    def _path(self, sha256: str) -> Path:
        return self.dir / sha256[:2] / f"{sha256}.json"

    def get(self, sha256: str) -> str | None:
        try:
            return json.loads(self._path(sha256).read_text())["text"]
        except (OSError, ValueError, KeyError):
            return None

    def put(self, sha256: str, text: str) -> None:
        path = self._path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({"text": text}, f)
        os.replace(tmp, path)

    def texts(self, images: list, sha256s: list[str], progress: bool = False) -> list[str]:
        """OCR text of each image (path, bytes or PIL image), read from the cache when there."""
        from .imaging import open_image

        out = [self.get(s) for s in sha256s]
        missing = [i for i, t in enumerate(out) if t is None]
        for i in tqdm(missing, desc="OCR", disable=not progress or not missing, unit="meme"):
            out[i] = self.engine.read(open_image(images[i]))
            self.put(sha256s[i], out[i])
        return out
