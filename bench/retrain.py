"""Retrain time: first run (features computed) and with cached features.

Imports the labelled memes into a fresh SQLite database (the import time is
reported too), then runs `manage.py retrain --no-promote` twice: the first run
encodes every meme, the second finds every feature in the cache.

    .venv/bin/python -m bench.retrain [--dataset memotion|religious_hateful] [--limit N]
        [--feature-cache DIR]   # reuse a cache (then both runs are cached runs)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {
    "memotion": {
        "dir": ROOT.parent / "shared" / "data" / "memotion_7k",
        "args": [
            "--label-set",
            "sentiment",
            "--label-column",
            "overall_sentiment",
            "--text-column",
            "text_corrected",
            "--map",
        ],
    },
    "religious_hateful": {
        "dir": ROOT.parent / "shared" / "data" / "religious_hateful",
        "args": ["--label-set", "hateful", "--label-column", "label", "--text-column", "text"],
    },
}
MAP = (
    "very_positive=positive,positive=positive,"
    "neutral=negative,negative=negative,very_negative=negative"
)


def manage(env: dict, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="memotion")
    parser.add_argument("--limit", type=int, default=0, help="only the first N rows (0: all)")
    parser.add_argument("--feature-cache", default=None)
    args = parser.parse_args()
    dataset = DATASETS[args.dataset]
    args.data = dataset["dir"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = args.data / "labels.csv"
        if args.limit:
            lines = csv_path.read_text(encoding="utf-8").splitlines(keepends=True)
            csv_path = tmp / "labels.csv"
            csv_path.write_text("".join(lines[: args.limit + 1]), encoding="utf-8")
        env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "MEDIA_ROOT": str(tmp / "media"),
            "ML_MODEL_ROOT": str(tmp / "models"),
            "ML_FEATURE_CACHE": args.feature_cache or str(tmp / "features"),
            "REDIS_URL": "",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        manage(env, "migrate", "-v0")
        import_s, out = manage(
            env,
            "import_dataset",
            "--csv",
            str(csv_path),
            "--images",
            str(args.data / "images"),
            *dataset["args"],
            *([MAP] if dataset["args"][-1] == "--map" else []),
            "-v0",
        )
        print(f"import: {out.strip().splitlines()[-1]} in {import_s:.1f} s")
        label_set = dataset["args"][1]
        cold_s, out = manage(env, "retrain", "--label-set", label_set, "--no-promote", "-v0")
        print(re.search(r"\d+ labelled memes.*", out).group(0))
        warm_s, out = manage(env, "retrain", "--label-set", label_set, "--no-promote", "-v0")
        print(f"retrain, first run (every feature computed): {cold_s:.1f} s")
        print(f"retrain, features cached: {warm_s:.1f} s; first/cached = x{cold_s / warm_s:.1f}")
        print("second run's output (stage times, gate metrics, decision):")
        print(out.strip())


if __name__ == "__main__":
    main()
