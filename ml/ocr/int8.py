"""The text detector in int8: statically quantised from the wheel's model, built once, cached.

On one core the detector is the OCR's largest cost (about half of a real meme's OCR time).
onnxruntime runs a statically quantised convolution (QDQ, QLinearConv) with the CPU's
int8 dot-product instructions (VNNI): about 3x faster than float32 on this machine, with
the same words read (docs/benchmarks.md, "int8 detector"). Dynamic quantisation does not
do this: it turns Conv into ConvInteger, which runs without those kernels and was slower
than float32.

Static quantisation needs activation ranges, measured on calibration images. They are
drawn here, deterministically, as memes look: a caption in white with a black outline (and
plain dark text on light) over a photo-like background, at the detector's input sizes, so
a deployment builds the same model with no dataset at hand. The file is derived, never
committed: built on first use into ML_OCR_CACHE (default ~/.cache/memesense/ocr), keyed by
the source model and this module's code, and rebuilt when either changes.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CALIBRATION_IMAGES = 24
_WORDS = (  # noqa: SIM905 (a sentence is easier to read than a list)
    "WHEN YOU THE MONDAY MORNING NOBODY ME EVERYONE ELSE BE LIKE FINALLY DOES NOT SIMPLY "
    "CAT DOG WORK FRIDAY COFFEE TRUTH PEOPLE REALLY WHY THEY SAY THAT ONE FRIEND 2024"
).split()
_SIZES = ((480, 360), (360, 480), (480, 480), (480, 272), (320, 480), (480, 416))
_build_lock = threading.Lock()


def _cache_dir() -> Path:
    configured = os.environ.get("ML_OCR_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "memesense" / "ocr"


def calibration_images(count: int = CALIBRATION_IMAGES, seed: int = 13) -> list[Image.Image]:
    """Meme-like RGB pictures: captions over smooth, textured, photo-like backgrounds."""
    rng = random.Random(seed)
    images = []
    for index in range(count):
        width, height = _SIZES[index % len(_SIZES)]
        # A few colour patches blown up and blurred: the broad shapes of a photo.
        small = Image.new("RGB", (6, 5))
        small.putdata([tuple(rng.randrange(0, 256) for _ in range(3)) for _ in range(30)])
        image = small.resize((width, height), Image.Resampling.BICUBIC)
        noise = np.random.default_rng(seed + index).normal(
            0, rng.uniform(4, 18), (height, width, 3)
        )
        image = Image.fromarray(
            np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
        )
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randrange(2, 6)):  # objects with edges that are not text
            x, y = rng.randrange(width), rng.randrange(height)
            r = rng.randrange(10, max(11, width // 4))
            fill = tuple(rng.randrange(0, 256) for _ in range(3))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.5)))
        draw = ImageDraw.Draw(image)
        plain = rng.random() < 0.3
        if plain:  # a light panel with dark text, as in screenshots and comics
            top = rng.randrange(0, height // 2)
            draw.rectangle((0, top, width, top + height // 3), fill=(245, 245, 240))
        y = rng.randrange(4, max(5, height // 8))
        while y < height - 20:
            size = rng.randrange(14, 44)
            font = ImageFont.load_default(size=size)
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 5)))
            x = rng.randrange(4, max(5, width // 4))
            if plain:
                draw.text((x, y), text.lower(), fill=(20, 20, 20), font=font)
            else:
                stroke = max(1, size // 12)
                draw.text(
                    (x, y), text, fill="white", font=font, stroke_width=stroke, stroke_fill="black"
                )
            y += size + rng.randrange(size // 2, 3 * size)
        images.append(image)
    return images


def int8_detector(source: Path, preprocess: Callable[[np.ndarray], np.ndarray]) -> Path:
    """The int8 model of the detector at `source`, built on first use and cached.

    `preprocess` turns a BGR uint8 array into the detector's input tensor (RapidOCR's own
    DetPreProcess), so calibration sees exactly what the detector is given.
    """
    digest = hashlib.sha256()
    stat = source.stat()
    digest.update(f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(Path(__file__).read_bytes())
    path = _cache_dir() / f"{source.stem}.int8-{digest.hexdigest()[:20]}.onnx"
    with _build_lock:
        if path.is_file():
            return path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _build(source, preprocess, path)
        except OSError:
            # An unwritable cache costs a build per process, in a folder of its own.
            import tempfile

            path = Path(tempfile.mkdtemp(prefix="memesense-ocr-")) / path.name
            _build(source, preprocess, path)
    return path


def _build(source: Path, preprocess, path: Path) -> None:
    import tempfile

    import onnxruntime as ort
    from onnx import load, save, version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    input_name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    input_name = input_name.get_inputs()[0].name
    batches = [
        {input_name: preprocess(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))}
        for image in calibration_images()
    ]

    class Calibration(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(batches)

        def get_next(self):
            return next(self._batches, None)

    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        # Per-channel weight scales (DequantizeLinear's axis) need opset 13; the wheel's
        # model is opset 11. Per-channel scales, and the first convolution and the last
        # four (the head that draws the text map) kept in float32, agree best with the
        # float32 detector: 0.975 IoU of the text map on 40 real memes against 0.940 for
        # per-tensor int8 everywhere, at 37 against 32 ms (100 ms in float32). Only Conv
        # is quantised: the rest is a few percent of the time.
        model = version_converter.convert_version(load(str(prepared)), 13)
        save(model, str(prepared))
        convs = [node.name for node in model.graph.node if node.op_type == "Conv"]
        built = Path(scratch) / "int8.onnx"
        quantize_static(
            str(prepared),
            str(built),
            Calibration(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["Conv"],
            nodes_to_exclude=[*convs[:1], *convs[-4:]],
        )
        os.replace(built, path)
