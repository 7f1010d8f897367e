"""Per-meme cost of each pipeline stage on one core, against the original design.

The whole pipeline as a worker runs it on real memes at their own resolution (by default
`shared/data/religious_hateful`, up to 800 px): decode, OCR (each of its stages), then for
every shipped label set's model the classification with its explanation, then the
signals. The original design (tesseract OCR, Keras ResNet50 + a bert-base-sized BERT with
random weights: only timing matters) runs on the same memes in a child process of the same
run, so that the default's RSS and load time are measured without TensorFlow in memory, as
a worker has it, and the ratio is taken under the same machine load.

Times are CPU seconds of the process (plus its finished children: tesseract) per meme, on
one thread, so that figures taken on a busy machine still say what a meme costs one core.

    .venv/bin/python -m bench.speed --n 60
    .venv/bin/python -m bench.speed --n 60 --data ../shared/data/memotion_7k   # 128 px memes
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

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "religious_hateful"


def _sample(n: int, data: Path) -> list[bytes]:
    import csv

    with open(data / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    random.Random(0).shuffle(rows)
    return [(data / "images" / r["image_name"]).read_bytes() for r in rows[:n]]


def _cpu() -> float:
    """CPU seconds of this process and its finished children (tesseract runs as one)."""
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


def _pct(values: list[float]) -> dict:
    a = np.asarray(values) * 1000
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
    }


def _shipped_models() -> list:
    """Every label set's model shipped in ml/shipped/ (the ones a fresh install activates).

    A label set's shipped model is the folder named after it (ml.default_model_path);
    earlier versions kept beside it (hateful-v1) are not what a fresh install runs.
    """
    import ml

    root = Path(ml.default_model_path("sentiment")).parent
    folders = sorted(f for f in root.iterdir() if (f / "manifest.json").is_file())
    return [
        ml.load_model(folder)
        for folder in folders
        if json.loads((folder / "manifest.json").read_text())["label_set"] == folder.name
    ]


def _time_pipeline(samples, ocr, models) -> dict:
    """The worker's pipeline: decode, OCR, every model with its explanation, the signals."""
    from ml.explain import classify_and_explain
    from ml.imaging import open_image
    from ml.signals import offensive_scores

    stages: dict[str, list[float]] = {}

    def add(stage: str, seconds: float) -> None:
        stages.setdefault(stage, []).append(seconds)

    for data in samples:
        t0 = _cpu()
        img = open_image(data)
        t1 = _cpu()
        text, ocr_stages = ocr.read_timed(img)
        t2 = _cpu()
        for model in models:
            classify_and_explain(model, img, text)
        t3 = _cpu()
        offensive_scores([text])
        t4 = _cpu()
        add("decode", t1 - t0)
        add("ocr", t2 - t1)
        for stage, seconds in ocr_stages.items():
            add(f"  ocr {stage}", seconds)
        add(f"models + explanations ({len(models)})", t3 - t2)
        add("signals", t4 - t3)
        add("total", t4 - t0)
    return {k: _pct(v) for k, v in stages.items()}


def run_default(n: int, data: Path) -> dict:
    t0 = time.perf_counter()
    from ml.ocr.rapid import RapidOcrEngine

    models = _shipped_models()
    ocr = RapidOcrEngine()
    load_s = time.perf_counter() - t0
    samples = _sample(n, data)
    # Warm up: first runs allocate, and the signals load their model on first use.
    _time_pipeline(samples[:3], ocr, models)
    stages = _time_pipeline(samples, ocr, models)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_s": round(load_s, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "label_sets": [model.label_set for model in models],
        "stages": stages,
    }


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

    from ml.imaging import open_image
    from ml.ocr.tesseract import TesseractEngine

    ocr = TesseractEngine(preprocess=False)

    def run(samples) -> dict:
        stages: dict[str, list[float]] = {}
        for data in samples:
            t0 = _cpu()
            img = open_image(data)
            t1 = _cpu()
            text = ocr.read(img)
            t2 = _cpu()
            fi = image_encoder.encode([img])
            t3 = _cpu()
            ft = text_encoder.encode([text])
            t4 = _cpu()
            head(fi, ft)
            t5 = _cpu()
            for stage, seconds in (
                ("decode", t1 - t0),
                ("ocr (tesseract)", t2 - t1),
                ("image encoder (ResNet50)", t3 - t2),
                ("text encoder (bert-base)", t4 - t3),
                ("head", t5 - t4),
                ("total", t5 - t0),
            ):
                stages.setdefault(stage, []).append(seconds)
        return {k: _pct(v) for k, v in stages.items()}

    samples = _sample(n, data)
    run(samples[:3])
    return {"stages": run(samples)}


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
    print(f"memes: {args.n} from {args.data.name}; one thread; CPU ms per meme")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (1 min)")
    print(f"label sets: {', '.join(default['label_sets'])}")
    print("| stage | Memesense p50 | p95 |\n|---|---|---|")
    for stage, value in d.items():
        print(f"| {stage} | {value['p50_ms']:.1f} | {value['p95_ms']:.1f} |")
    print("| original design stage | p50 | p95 |\n|---|---|---|")
    for stage, value in s.items():
        print(f"| {stage} | {value['p50_ms']:.1f} | {value['p95_ms']:.1f} |")
    ratio = s["total"]["p50_ms"] / d["total"]["p50_ms"]
    print(
        f"whole pipeline p50: {d['total']['p50_ms']:.1f} ms (target <= 350 ms); original design "
        f"{s['total']['p50_ms']:.1f} ms: x{ratio:.2f} faster (target >= x2)"
    )
    print(
        f"start-up (models + OCR engine loaded): {default['load_s']:.2f} s; "
        f"peak RSS after the run: {default['peak_rss_mb']:.0f} MB (target <= 1024 MB)"
    )


if __name__ == "__main__":
    main()
