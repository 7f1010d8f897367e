"""Feature extraction with a per-encoder on-disk cache.

The encoders are frozen, so a meme's features never change for a given
encoder: they are computed once, keyed by the image's SHA-256 and the text's
SHA-256, and training the fusion head reads them back in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .data import Example, text_sha256
from .encoders import EncoderConfig, encoders_for
from .imaging import ImageError, open_image


class FeatureCache:
    """One .npy file per (encoder, content hash); writes are atomic."""

    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root else None

    def _path(self, encoder: str, key: str) -> Path:
        return self.root / encoder / key[:2] / f"{key}.npy"

    def get(self, encoder: str, key: str) -> np.ndarray | None:
        if self.root is None:
            return None
        path = self._path(encoder, key)
        try:
            return np.load(path)
        except (OSError, ValueError):
            return None

    def put(self, encoder: str, key: str, vector: np.ndarray) -> None:
        if self.root is None:
            return
        path = self._path(encoder, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, vector)
        os.replace(tmp, path)


def _cached_encode(cache, encoder_name, keys, compute, batch_size, progress, desc, callback=None):
    out: list[np.ndarray | None] = [cache.get(encoder_name, k) for k in keys]
    missing = [i for i, v in enumerate(out) if v is None]
    bar = tqdm(total=len(missing), desc=desc, disable=not progress or not missing, unit="item")
    for start in range(0, len(missing), batch_size):
        idx = missing[start : start + batch_size]
        vectors = compute(idx)
        for i, vec in zip(idx, vectors, strict=True):
            out[i] = vec
            cache.put(encoder_name, keys[i], vec)
        bar.update(len(idx))
        if callback is not None:
            callback(desc, start + len(idx), len(missing))
    bar.close()
    return np.stack(out).astype(np.float32) if out else None


def extract_features(
    examples: list[Example],
    config: EncoderConfig,
    cache: FeatureCache | None = None,
    progress: bool = False,
    batch_size: int = 32,
    callback=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (image features, text features) for the examples, using the cache.

    `callback(stage, done, total)` is called after each batch that had to be
    computed. Raises ImageError naming the example whose image cannot be decoded.
    """
    cache = cache or FeatureCache(None)
    image_encoder, text_encoder = encoders_for(config)

    def images(idx):
        pictures = []
        for i in idx:
            try:
                pictures.append(open_image(examples[i].image))
            except ImageError as exc:
                raise ImageError(f"{examples[i].key}: {exc}") from exc
        return image_encoder.encode(pictures, batch_size)

    def texts(idx):
        return text_encoder.encode([examples[i].text for i in idx])

    image_keys = [e.image_sha256 for e in examples]
    text_keys = [text_sha256(e.text) for e in examples]
    img = _cached_encode(
        cache,
        _cache_name(image_encoder.name, config.image_weights),
        image_keys,
        images,
        batch_size,
        progress,
        "image features",
        callback,
    )
    txt = _cached_encode(
        cache,
        _cache_name(text_encoder.name, config.text_weights, config.max_tokens),
        text_keys,
        texts,
        64,
        progress,
        "text features",
        callback,
    )
    if img is None:
        img = np.zeros((0, image_encoder.dim), np.float32)
        txt = np.zeros((0, text_encoder.dim), np.float32)
    return img, txt


def _encoder_code_digest() -> str:
    # Features are only as good as the code that computed them: a changed encoder
    # (preprocessing, graph builder) must not read vectors the old one wrote, just
    # as the ONNX graph cache in ml/encoders keys on the same sources.
    digest = hashlib.sha256()
    for source in sorted((Path(__file__).parent / "encoders").glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def _cache_name(name: str, weights: str | None, max_tokens: int | None = None) -> str:
    # Different weight files must not share cached features.
    suffix = (
        ""
        if weights is None
        else "-" + hashlib.sha256(os.path.abspath(weights).encode()).hexdigest()[:10]
    )
    tokens = f"-t{max_tokens}" if max_tokens else ""
    return f"{name}{suffix}{tokens}-c{_encoder_code_digest()}"
