"""What a shipped model costs the worker: load time, memory and predict time per meme.

Loads the model in a fresh process (encoders included), classifies real memes of
religious_hateful one at a time with their transcribed text, and prints the head's own
time (TF-IDF + ONNX head on cached features), the whole ml.predict per meme (both encoders
+ head, OCR excluded) and the process's peak RSS.

    nice -n 10 .venv/bin/python -m bench.served_model [--model ml/shipped/hateful] [--n 50]
"""

from __future__ import annotations

import argparse
import csv
import resource
import time
from pathlib import Path

import numpy as np

import ml

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "religious_hateful"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ml.default_model_path("hateful")))
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    with open(DATA / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))[: args.n]
    base = _rss_mb()
    t0 = time.perf_counter()
    model = ml.load_model(args.model)
    ml.predict(model, [DATA / "images" / rows[0]["image_name"]], [rows[0]["text"]])  # warm up
    load_s = time.perf_counter() - t0
    loaded = _rss_mb()
    whole, head = [], []
    for row in rows:
        start = time.perf_counter()
        img, txt = model.encode([DATA / "images" / row["image_name"]], [row["text"]])
        mid = time.perf_counter()
        model.probabilities_from_features(img, txt, texts=[row["text"]])
        end = time.perf_counter()
        whole.append(end - start)
        head.append(end - mid)
    print(
        f"model {model.version}: head {Path(args.model, 'head.onnx').stat().st_size / 1e6:.2f} MB"
    )
    print(f"load + first prediction: {load_s:.2f} s; RSS {base:.0f} -> {loaded:.0f} MB")
    print(
        f"per meme over {len(rows)}: encoders + head p50 {np.median(whole) * 1000:.1f} ms, "
        f"head alone (TF-IDF + ONNX) p50 {np.median(head) * 1000:.2f} ms, "
        f"p95 {np.percentile(head, 95) * 1000:.2f} ms"
    )
    print(f"peak RSS {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
