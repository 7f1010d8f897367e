"""Command line for scripts and batch evaluation, without Django.

python -m ml predict  --csv FILE --images DIR [--text-column COL] [--model PATH] --out preds.csv
python -m ml train    --csv FILE --images DIR --label-column COL [--map raw=class,...] --out ROOT
python -m ml evaluate --csv FILE --images DIR --label-column COL [--model PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from . import default_model_path, load_model
from .data import read_labelled_csv
from .imaging import ImageError, open_image
from .model import ModelError, predict

BATCH = 32


def _parse_map(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise SystemExit(f"--map must look like 'raw=class,raw2=class2', got {text!r}")
    return {raw.strip(): cls.strip() for raw, cls in pairs}


def cmd_predict(args) -> int:
    model = load_model(args.model or default_model_path())
    images_dir = Path(args.images)
    with open(args.csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and args.image_column not in rows[0]:
        raise SystemExit(f"{args.csv}: no column {args.image_column!r}")
    fields = [
        args.image_column,
        "label",
        *[f"prob_{c}" for c in model.classes],
        "model_version",
        "error",
    ]
    written = failed = 0
    with open(args.out, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            good, pictures, texts = [], [], []
            results: list[dict] = []
            for row in batch:
                name = (row.get(args.image_column) or "").strip()
                record = {args.image_column: name, "model_version": model.version, "error": ""}
                try:
                    pictures.append(open_image(images_dir / Path(name).name))
                    texts.append(row.get(args.text_column) or "" if args.text_column else "")
                    good.append(record)
                except (ImageError, OSError) as exc:
                    record["error"] = f"unreadable or missing image: {exc}"
                    failed += 1
                results.append(record)
            if good:
                for record, probs in zip(good, predict(model, pictures, texts), strict=True):
                    record["label"] = model.classes[int(probs.argmax())]
                    record.update(
                        {f"prob_{c}": f"{p:.6f}" for c, p in zip(model.classes, probs, strict=True)}
                    )
            writer.writerows(results)
            written += len(results)
    print(
        f"wrote {written} rows to {args.out} ({failed} with errors) using {model.version}",
        file=sys.stderr,
    )
    return 0


def _examples(args):
    text_columns = tuple(args.text_column) if args.text_column else ("text_corrected", "text_ocr")
    examples, problems = read_labelled_csv(
        args.csv,
        args.images,
        args.label_column,
        text_columns,
        args.image_column,
        _parse_map(args.map),
    )
    for row_no, problem in problems[:20]:
        print(f"row {row_no}: {problem}", file=sys.stderr)
    if len(problems) > 20:
        print(f"... {len(problems) - 20} more rows skipped", file=sys.stderr)
    if not examples:
        raise SystemExit("no usable rows")
    return examples


def _read_with_ocr(examples, args) -> None:
    """Make the OCR text each meme's served text and the CSV's text its augmentation.

    OCR is cached under --ocr-cache by image hash and engine settings (ml.ocr_cache), so
    it runs once per dataset. With --ocr-cached-only, memes not in the cache keep the
    CSV's text (no OCR is run); the count is printed and goes into the report.
    """
    from .ocr import get_engine
    from .ocr_cache import OcrTextCache

    cache = OcrTextCache(args.ocr_cache, get_engine(args.ocr_engine))
    if args.ocr_cached_only:
        texts = [cache.get(e.image_sha256) for e in examples]
    else:
        texts = cache.texts([e.image for e in examples], [e.image_sha256 for e in examples], True)
    read = 0
    for example, text in zip(examples, texts, strict=True):
        if text is None:
            continue
        read += 1
        example.alt_text, example.text = example.text, text
    print(f"OCR text for {read} of {len(examples)} memes ({cache.dir.name})", file=sys.stderr)
    return read


def cmd_train(args) -> int:
    from .encoders import EncoderConfig
    from .pipeline import PipelineConfig, summary_info, train_with_holdout
    from .registry import save_model
    from .selection import ALL_CANDIDATES, SelectionConfig

    examples = _examples(args)
    ocr_read = _read_with_ocr(examples, args) if args.ocr else None
    classes = (
        tuple(args.classes.split(","))
        if args.classes
        else tuple(sorted({e.label for e in examples}))
    )
    candidates = tuple(args.candidates.split(",")) if args.candidates else ALL_CANDIDATES
    unknown = sorted(set(candidates) - set(ALL_CANDIDATES))
    if unknown:
        raise SystemExit(f"unknown candidates {unknown}; choose from {', '.join(ALL_CANDIDATES)}")
    config = PipelineConfig(
        label_set=args.label_set,
        classes=classes,
        encoders=EncoderConfig(
            image=args.image_encoder,
            text=args.text_encoder,
            image_weights=args.image_weights,
            text_weights=args.text_weights,
        ),
        selection=SelectionConfig(candidates=candidates, seed=args.seed, keras_epochs=args.epochs),
        feature_cache=args.feature_cache,
        progress=True,
    )
    outcome = train_with_holdout(examples, config, args.test_fraction)
    if ocr_read is not None:
        outcome.report["text"] = {
            "served": "OCR text" if ocr_read == len(examples) else "OCR text where cached",
            "ocr_memes": ocr_read,
            "augmentation": "the CSV's text column",
        }
    info = summary_info(outcome.report, "python -m ml train")
    path = save_model(
        outcome.model,
        args.out,
        args.version,
        report=outcome.report,
        extra_files=outcome.plots,
        info=info,
        folder=args.folder,
    )
    _print_summary(outcome.report)
    print(f"selected {outcome.model.manifest['chosen']}: {outcome.report['selection']['why']}")
    print(f"saved {outcome.model.version} to {path}")
    return 0


def _print_summary(report: dict) -> None:
    selection = report.get("selection") or {}
    if selection.get("candidates"):
        print(f"{'candidate (grouped CV)':22} {'macro-F1':>15} {'AUROC':>15}")
        for name, c in selection["candidates"].items():
            print(f"{name:22} {_mean_sd(c, 'macro_f1'):>15} {_mean_sd(c, 'auroc'):>15}")
    baselines = [(k, m) for k, m in report.get("baselines", {}).items() if m]
    rows = [("model (test)", report["test"]), *baselines]
    print(f"{'':22} {'macro-F1':>9} {'AUROC':>7} {'accuracy':>9}")
    for name, m in rows:
        auroc = f"{m['auroc']:.4f}" if m.get("auroc") is not None else "   n/a"
        print(f"{name:22} {m['macro_f1']:>9.4f} {auroc:>7} {m['accuracy']:>9.4f}")


def _mean_sd(summary: dict, key: str) -> str:
    mean, sd = summary.get(f"{key}_mean"), summary.get(f"{key}_sd")
    if mean is None:
        return "n/a"
    return f"{mean:.3f} ± {sd:.3f}" if sd is not None else f"{mean:.3f}"


def cmd_evaluate(args) -> int:
    from .pipeline import report_for

    model = load_model(args.model or default_model_path())
    examples = _examples(args)
    unknown = sorted({e.label for e in examples} - set(model.classes))
    if unknown:
        raise SystemExit(f"labels {unknown} are not classes of {model.version}: {model.classes}")
    from .features import FeatureCache, extract_features

    img, txt = extract_features(
        examples, model.encoders, FeatureCache(args.feature_cache), progress=True
    )
    texts = [e.text for e in examples]
    probs = model.probabilities_from_features(img, txt, texts=texts)
    raw = model.probabilities_from_features(img, txt, calibrated=False, texts=texts)
    y = [model.classes.index(e.label) for e in examples]
    report, plots = report_for(model, y, probs, uncalibrated=raw)
    if args.out:
        out = Path(args.out)
        for name, data in plots.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        (out / "metrics.json").write_text(json.dumps(report, indent=2))
    _print_summary(report)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def data_args(p, labelled: bool):
        p.add_argument("--csv", required=True)
        p.add_argument("--images", required=True)
        p.add_argument("--image-column", default="image_name")
        if labelled:
            p.add_argument("--label-column", required=True)
            p.add_argument(
                "--text-column", action="append", help="first non-empty wins; repeatable"
            )
            p.add_argument("--map", help="raw=class,... to rename or collapse labels")
        p.add_argument("--feature-cache", default=None)

    p = sub.add_parser("predict", help="classify every row of a CSV")
    data_args(p, labelled=False)
    p.add_argument("--text-column", default=None)
    p.add_argument("--model", default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("train", help="train, evaluate on a held-out split and save a version")
    data_args(p, labelled=True)
    p.add_argument("--label-set", default="sentiment")
    p.add_argument("--classes", help="comma-separated class order (default: sorted labels)")
    p.add_argument("--out", required=True, help="registry folder")
    p.add_argument("--version", default=None)
    p.add_argument("--folder", default=None, help="folder name (default: the version)")
    p.add_argument("--epochs", type=int, default=40, help="most epochs of the Keras candidate")
    p.add_argument("--candidates", default=None, help="comma-separated (default: all)")
    p.add_argument("--ocr", action="store_true", help="serve OCR text; CSV text augments")
    p.add_argument("--ocr-cache", default="var/ocr_text")
    p.add_argument("--ocr-engine", default=None)
    p.add_argument("--ocr-cached-only", action="store_true", help="never run OCR, use the cache")
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--image-encoder", default="efficientnet-lite0")
    p.add_argument("--text-encoder", default="minilm-l6")
    p.add_argument("--image-weights", default=None)
    p.add_argument("--text-weights", default=None)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics and plots of a model on a labelled CSV")
    data_args(p, labelled=True)
    p.add_argument("--model", default=None)
    p.add_argument("--out", default=None, help="folder for metrics.json and plots")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
