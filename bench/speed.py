"""Per-meme latency of each pipeline stage on one core, against the seed architecture.

Stages: decode, OCR, image encoder, text encoder, head. The default pipeline
(EfficientNet-Lite0 + MiniLM in onnxruntime, ONNX head) runs in this process;
the seed's (Keras ResNet50 + bert-base, random weights: only timing matters)
runs in a child process so that the default's RSS and load time are measured
without TensorFlow in memory, as a worker has it.

    .venv/bin/python -m bench.speed --n 60
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

for var in (
    "OMP_NUM_THREADS",
    "OMP_THREAD_LIMIT",
    "ML_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
):
    os.environ[var] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "memotion_7k"


def _sample(n: int, data: Path) -> list[tuple[bytes, str]]:
    import csv

    with open(data / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    random.Random(0).shuffle(rows)
    return [
        ((data / "images" / r["image_name"]).read_bytes(), r["text_corrected"] or "")
        for r in rows[:n]
    ]


def _pct(values: list[float]) -> dict:
    a = np.asarray(values) * 1000
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
    }


def _time_stages(samples, image_encoder, text_encoder, head, with_ocr: bool) -> dict:
    from ml.imaging import open_image

    stages: dict[str, list[float]] = {
        k: []
        for k in (
            "decode",
            "ocr",
            "image_encoder",
            "text_encoder",
            "head",
            "total_without_ocr",
            "total",
        )
    }
    ocr = None
    if with_ocr:
        from ml.ocr import get_engine

        ocr = get_engine()
    for data, text in samples:
        t0 = time.perf_counter()
        img = open_image(data)
        t1 = time.perf_counter()
        if ocr is not None:
            ocr.read(img)
        t2 = time.perf_counter()
        fi = image_encoder.encode([img])
        t3 = time.perf_counter()
        ft = text_encoder.encode([text])
        t4 = time.perf_counter()
        head(fi, ft)
        t5 = time.perf_counter()
        for key, value in (
            ("decode", t1 - t0),
            ("ocr", t2 - t1),
            ("image_encoder", t3 - t2),
            ("text_encoder", t4 - t3),
            ("head", t5 - t4),
            ("total_without_ocr", (t5 - t0) - (t2 - t1)),
            ("total", t5 - t0),
        ):
            stages[key].append(value)
    return {k: _pct(v) for k, v in stages.items() if v and (with_ocr or k not in ("ocr", "total"))}


def run_default(n: int, data: Path) -> dict:
    t0 = time.perf_counter()
    import ml

    model = ml.load_model(ml.default_model_path())
    image_encoder, text_encoder = ml.encoders.encoders_for(model.encoders)
    load_s = time.perf_counter() - t0
    samples = _sample(n, data)
    # Warm up: first runs allocate.
    _time_stages(samples[:3], image_encoder, text_encoder, model.probabilities_from_features, True)
    stages = _time_stages(
        samples, image_encoder, text_encoder, model.probabilities_from_features, True
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "model_load_s": round(load_s, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "stages": stages,
        "explain": _time_explanations(model, samples),
    }


def _time_explanations(model, samples) -> dict:
    """Classification alone vs classification with its explanation (ml.explain)."""
    import ml
    from ml.explain import classify_and_explain
    from ml.imaging import open_image

    plain, explained = [], []
    for data, text in samples:
        img = open_image(data)
        t0 = time.perf_counter()
        ml.classify(model, [img], [text])
        t1 = time.perf_counter()
        classify_and_explain(model, img, text)
        t2 = time.perf_counter()
        plain.append(t1 - t0)
        explained.append(t2 - t1)
    return {"classify": _pct(plain), "classify_and_explain": _pct(explained)}


def run_seed(n: int, data: Path) -> dict:
    """ResNet50 (Keras) + bert-base-sized BERT with random weights, same head shape."""
    import tempfile

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from ml.encoders import ResNet50Encoder, TextEncoder
    from ml.tests.test_seed_encoders import make_tiny_bert

    with tempfile.TemporaryDirectory() as tmp:
        # bert-base-uncased's shape: 12 layers, 768 hidden, 12 heads, 3072 inner.
        make_tiny_bert(Path(tmp) / "bert", hidden=768, layers=12, heads=12, inter=3072)
        text_encoder = TextEncoder("bert-base", Path(tmp) / "bert", 50, normalize=False)
    image_encoder = ResNet50Encoder(weights=None)
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(2048 + 768, 256)).astype(np.float32)

    def head(fi, ft):
        return np.maximum(np.concatenate([fi, ft], axis=1) @ w1, 0)

    samples = _sample(n, data)
    _time_stages(samples[:3], image_encoder, text_encoder, head, False)
    return {"stages": _time_stages(samples, image_encoder, text_encoder, head, False)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps(run_seed(args.n, args.data)))
        return
    default = run_default(args.n, args.data)
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.speed",
            "--seed-only",
            "--n",
            str(args.n),
            "--data",
            str(args.data),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    seed = json.loads(child.stdout.strip().splitlines()[-1])
    d, s = default["stages"], seed["stages"]
    print(f"memes: {args.n} Memotion images; one thread each for onnxruntime, TF and OCR")
    print(f"{'stage':20} {'default p50':>12} {'p95':>8} {'seed p50':>10} {'p95':>8}")
    for stage in (
        "decode",
        "ocr",
        "image_encoder",
        "text_encoder",
        "head",
        "total_without_ocr",
        "total",
    ):
        a, b = d.get(stage), s.get(stage)
        print(f"{stage:20} {a['p50_ms']:>12.2f} {a['p95_ms']:>8.2f}", end="")
        print(f" {b['p50_ms']:>10.2f} {b['p95_ms']:>8.2f}" if b else "")
    enc_default = d["image_encoder"]["p50_ms"] + d["text_encoder"]["p50_ms"] + d["head"]["p50_ms"]
    enc_seed = s["image_encoder"]["p50_ms"] + s["text_encoder"]["p50_ms"] + s["head"]["p50_ms"]
    print(
        f"encoders + head p50: default {enc_default:.1f} ms, seed {enc_seed:.1f} ms, "
        f"speed-up x{enc_seed / enc_default:.2f} (target <= 60 ms, >= x2.5)"
    )
    print(f"whole pipeline with OCR p50: {d['total']['p50_ms']:.1f} ms (target <= 300 ms)")
    e = default["explain"]
    extra = e["classify_and_explain"]["p50_ms"] - e["classify"]["p50_ms"]
    print(
        f"explanations: classify p50 {e['classify']['p50_ms']:.1f} ms, with explanation "
        f"{e['classify_and_explain']['p50_ms']:.1f} ms: +{extra:.1f} ms = "
        f"+{100 * extra / d['total']['p50_ms']:.0f}% of a meme's classification with OCR "
        f"(+{100 * extra / e['classify']['p50_ms']:.0f}% of the model alone; limit +50%)"
    )
    print(
        f"model load: {default['model_load_s']:.2f} s (target <= 5 s); "
        f"peak RSS after the run: {default['peak_rss_mb']:.0f} MB (target <= 1024 MB)"
    )


if __name__ == "__main__":
    main()
