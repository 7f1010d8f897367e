"""Learning curve on religious_hateful: every candidate, the selected model and baselines.

A fixed grouped held-out part (ml.training.stable_holdout, 20%: the same memes
`python -m ml train` holds out for ml/shipped/hateful) is scored; the models train on
nested random subsets of the rest (50, 100, 200, 400, 800 and all labels). Each model is
scored on the held-out memes' OCR text (what the worker serves) and on their transcribed
text. Training rows use the OCR text where it is cached and the transcription as an extra
row (ml.pipeline); memes whose OCR is not cached yet train on their transcription.

    nice -n 10 .venv/bin/python -m bench.learning_curve [--sizes 50,100,...] [--keras]

Prints a table; writes var/learning_curve.json and var/learning_curve_{auroc,macro_f1}.png.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ml.data import Example, read_labelled_csv
from ml.evaluation import baselines
from ml.metrics import auroc, macro_f1
from ml.model import softmax
from ml.pipeline import PipelineConfig, build_rows
from ml.selection import ALL_CANDIDATES, SINGLE, SelectionConfig, fit_candidate, fit_stack, select
from ml.training import duplicate_groups, stable_holdout, tune_prior_shift

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "religious_hateful"
CLASSES = ("hateful", "not_hateful")


def load(data: Path, ocr_cache: str) -> tuple[list[Example], dict[str, str]]:
    """The memes with OCR text as served text (where cached) and the transcription as alt."""
    from ml.ocr import get_engine
    from ml.ocr_cache import OcrTextCache

    examples, _ = read_labelled_csv(data / "labels.csv", data / "images", "label", ("text",))
    cache = OcrTextCache(ocr_cache, get_engine("rapidocr"))
    transcriptions = {}
    for e in examples:
        text = cache.get(e.image_sha256)
        if text is not None:
            transcriptions[e.key] = e.text
            e.alt_text, e.text = e.text, text
    return examples, transcriptions


def _scores(y, logits) -> dict:
    return {"auroc": auroc(y, softmax(logits)), "macro_f1": macro_f1(y, logits.argmax(1), 2)}


def evaluate_size(train, test_ocr, test_tx, config, keras: bool) -> list[dict]:
    k = len(CLASSES)
    rows = build_rows(train, duplicate_groups(train), config)
    t0 = time.perf_counter()
    selection = select(rows, k, config.selection)
    seconds = time.perf_counter() - t0
    scored = replace(config, augment=False)  # one row per held-out meme, its own text
    tests = {
        "ocr": build_rows(test_ocr, duplicate_groups(test_ocr), scored),
        "transcription": build_rows(test_tx, duplicate_groups(test_tx), scored),
    }
    names = [n for n in SINGLE if n in selection.report["candidates"]]
    fitted = {n: fit_candidate(n, rows, k, config.selection) for n in names}
    bases = selection.report["candidates"].get("stack", {}).get("bases")
    y_served = rows.y[selection.served_index]
    if bases:
        fitted["stack"] = fit_stack(
            {b: fitted[b] for b in bases}, selection.oof_all, y_served, k, 0
        )
    shift = tune_prior_shift(y_served, selection.oof_logits)
    out = []
    for text, test_rows in tests.items():
        for name, model in fitted.items():
            z = model.logits(test_rows)
            out.append({"model": name, "text": text, **_scores(test_rows.y, z)})
            if name == selection.chosen:
                chosen = {"model": f"selected ({name})", "text": text}
                out.append({**chosen, **_scores(test_rows.y, z + shift)})
        base = baselines(
            rows.y[rows.served],
            [t for t, s in zip(rows.texts, rows.served, strict=True) if s],
            test_rows.y,
            test_rows.texts,
            list(CLASSES),
        )
        for name in ("tfidf_logreg", "majority_class"):
            m = base[name]
            out.append(
                {
                    "model": name,
                    "text": text,
                    "auroc": m and m["auroc"],
                    "macro_f1": m and m["macro_f1"],
                }
            )
    for row in out:
        row["n_train"] = len(train)
        cv = selection.report["candidates"].get(row["model"], {})
        row["cv_macro_f1"] = cv.get("macro_f1_mean")
        row["cv_macro_f1_sd"] = cv.get("macro_f1_sd")
    print(f"  n={len(train)}: chose {selection.chosen} in {seconds:.0f} s of selection", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--ocr-cache", default="var/ocr_text")
    parser.add_argument("--feature-cache", default="var/features")
    parser.add_argument("--sizes", default="50,100,200,400,800,all")
    parser.add_argument("--keras", action="store_true", help="include the Keras head (slow)")
    parser.add_argument("--out", type=Path, default=Path("var"))
    args = parser.parse_args()

    examples, transcriptions = load(args.data, args.ocr_cache)
    read = len(transcriptions)
    groups = duplicate_groups(examples)
    held = stable_holdout(examples, groups, 0.2)
    test = [examples[i] for i in np.flatnonzero(held)]
    test_ocr = [e for e in test if e.key in transcriptions]  # scored only where OCR is cached
    test_tx = [
        Example(e.image, transcriptions[e.key], e.label, e.image_sha256, e.key) for e in test_ocr
    ]
    pool = [examples[i] for i in np.random.default_rng(0).permutation(np.flatnonzero(~held))]
    print(
        f"{len(examples)} memes, OCR cached for {read}; held out {len(test)} "
        f"({len(test_ocr)} with OCR, scored); training pool {len(pool)}"
    )
    candidates = (
        ALL_CANDIDATES if args.keras else tuple(c for c in ALL_CANDIDATES if c != "keras_fusion")
    )
    config = PipelineConfig(
        label_set="hateful",
        classes=CLASSES,
        selection=SelectionConfig(candidates=candidates),
        feature_cache=args.feature_cache,
    )
    results = []
    for size in args.sizes.split(","):
        n = len(pool) if size == "all" else min(int(size), len(pool))
        results += evaluate_size(pool[:n], test_ocr, test_tx, config, args.keras)

    print(f"\n{'model':28} {'text':14} " + " ".join(f"{s:>13}" for s in args.sizes.split(",")))
    sizes = sorted({r["n_train"] for r in results})
    keys = sorted(
        {
            (
                r["model"].split(" (")[0] if r["model"].startswith("selected") else r["model"],
                r["text"],
            )
            for r in results
        }
    )
    for model, text in keys:
        cells = []
        for n in sizes:
            row = next(
                (
                    r
                    for r in results
                    if r["n_train"] == n
                    and r["text"] == text
                    and (r["model"] == model or r["model"].startswith(model + " ("))
                ),
                None,
            )
            cells.append(
                "—"
                if row is None or row["auroc"] is None
                else f"{row['auroc']:.3f}/{row['macro_f1']:.3f}"
            )
        print(f"{model:28} {text:14} " + " ".join(f"{c:>13}" for c in cells))
    print("(cells: held-out AUROC/macro-F1)")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "learning_curve.json").write_text(json.dumps(results, indent=2))
    from ml.plots import learning_curve_png

    for metric in ("auroc", "macro_f1"):
        rows = [{**r, "model": r["model"].split(" (")[0]} for r in results]
        png = learning_curve_png(rows, metric, title=f"religious_hateful held-out {metric}")
        (args.out / f"learning_curve_{metric}.png").write_bytes(png)
    print(f"wrote {args.out}/learning_curve.json and the plots")


if __name__ == "__main__":
    main()
