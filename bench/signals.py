"""Time the per-meme signals (ml.signals) on real memes, and say what they found.

    .venv/bin/python -m bench.signals                 # the first 48 memes of religious_hateful
    .venv/bin/python -m bench.signals --n 200

Per meme, one thread: the offensive-language score of its transcribed text
(alt-profanity-check) and the NSFW score of its picture (nudenet's ONNX detector). The first
call of each loads its model and is timed apart. Prints the machine load beside the figures.
"""

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

from PIL import Image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "religious_hateful"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from ml.signals import nsfw, offensive_scores

    with open(DATA / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))[: args.n]
    pictures = [Image.open(DATA / "images" / r["image_name"]).convert("RGB") for r in rows]
    texts = [r["text"] for r in rows]

    started = time.perf_counter()
    offensive_scores(texts[:1])
    nsfw.nsfw_detections(pictures[:1])
    load_s = time.perf_counter() - started

    text_ms, image_ms, offensive, found = [], [], [], []
    for picture, text in zip(pictures, texts, strict=True):
        t = time.perf_counter()
        offensive.append(float(offensive_scores([text])[0]))
        text_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        found.append(nsfw.nsfw_detections([picture])[0])
        image_ms.append((time.perf_counter() - t) * 1000)

    nsfw_hits = sum(any(d["class"] in nsfw.NSFW_CLASSES for d in f) for f in found)
    faces = sum(any(d["class"].startswith("FACE_") for d in f) for f in found)
    print(f"memes: {len(rows)} (religious_hateful, first rows)")
    print(f"load both models: {load_s:.2f} s")
    print(f"offensive score: median {statistics.median(text_ms):.1f} ms per meme")
    print(f"NSFW detector:   median {statistics.median(image_ms):.0f} ms per meme")
    print(f"offensive score > 0.5: {sum(s > 0.5 for s in offensive)} memes")
    print(f"NSFW class found: {nsfw_hits} memes; a face found: {faces} memes")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
