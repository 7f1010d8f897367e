"""The one training pipeline: features, model selection, calibration, evaluation, report.

``python -m ml train``, ``manage.py retrain`` and the dashboard's retrain all call
:func:`train_model` (and :func:`evaluate_on` for the held-out or gate memes); Django only
gathers the labels, records the run and applies the gate's verdict.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .data import Example
from .encoders import EncoderConfig
from .evaluation import baselines, compute_metrics, summary
from .features import FeatureCache, extract_features
from .metrics import expected_calibration_error, reliability_bins
from .model import FusionModel, softmax
from .plots import confusion_png, curves_png, reliability_png
from .selection import Rows, SelectionConfig, export_onnx, select
from .training import duplicate_groups, fit_temperature, stable_holdout, tune_prior_shift


@dataclass(frozen=True)
class PipelineConfig:
    label_set: str = "sentiment"
    classes: tuple[str, ...] = ("positive", "negative")
    encoders: EncoderConfig = field(default_factory=EncoderConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    # Add each meme's alt_text (a transcription or correction) as an extra training row.
    augment: bool = True
    tune_priors: bool = True
    feature_cache: str | None = None
    progress: bool = False


@dataclass
class Outcome:
    model: FusionModel
    report: dict
    plots: dict[str, bytes]
    test_keys: list[str]


def data_fingerprint(examples: list[Example]) -> str:
    """Identifies the exact labelled data a model was trained on."""
    digest = hashlib.sha256()
    for key in sorted(
        f"{e.image_sha256}:{e.label}:{hashlib.sha256(e.text.encode()).hexdigest()}"
        for e in examples
    ):
        digest.update(key.encode())
    return digest.hexdigest()


def label_indices(examples: list[Example], classes) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({e.label for e in examples} - set(index))
    if unknown:
        raise ValueError(f"labels {unknown} are not classes of this label set {list(classes)}")
    return np.array([index[e.label] for e in examples], dtype=int)


def features(examples, config: PipelineConfig, callback=None):
    return extract_features(
        examples,
        config.encoders,
        FeatureCache(config.feature_cache),
        config.progress,
        callback=callback,
    )


def build_rows(examples, groups, config: PipelineConfig, callback=None) -> Rows:
    """One served row per meme, plus one augmentation row per differing alt_text."""
    y = label_indices(examples, config.classes)
    img, txt = features(examples, config, callback)
    extra = [
        i
        for i, e in enumerate(examples)
        if config.augment and e.alt_text.strip() and e.alt_text.strip() != e.text.strip()
    ]
    texts = [e.text for e in examples]
    served = np.ones(len(examples), dtype=bool)
    if extra:
        alt = [
            Example(e.image, e.alt_text, e.label, e.image_sha256, e.key)
            for e in (examples[i] for i in extra)
        ]
        alt_img, alt_txt = features(alt, config, callback)
        img, txt = np.vstack([img, alt_img]), np.vstack([txt, alt_txt])
        texts += [e.text for e in alt]
        y = np.concatenate([y, y[extra]])
        groups = np.concatenate([groups, groups[extra]])
        served = np.concatenate([served, np.zeros(len(extra), dtype=bool)])
    return Rows(img, txt, texts, y, np.asarray(groups), served)


def train_model(
    examples: list[Example], config: PipelineConfig, groups=None, callback=None
) -> FusionModel:
    """Select a model by grouped CV on `examples`, refit it on all of them, calibrate it.

    The decision offsets (macro-F1) and the temperature are fitted on the chosen
    candidate's out-of-fold logits, so no meme calibrates the model that was fitted on it.
    `callback(stage, done, total)` reports progress.
    """
    k = len(config.classes)
    y = label_indices(examples, config.classes)
    if len(np.unique(y)) < 2:
        raise ValueError("training needs examples of at least two classes")
    groups = duplicate_groups(examples) if groups is None else np.asarray(groups)
    rows = build_rows(examples, groups, config, callback)
    selection = select(rows, k, config.selection, callback)
    fitted = selection.fitted
    head = export_onnx(fitted, rows.img.shape[1], rows.txt.shape[1], k)
    model = FusionModel(
        config.label_set,
        list(config.classes),
        config.encoders,
        head,
        np.zeros(k, np.float32),
        lexical=fitted.lexical,
    )
    oof, y_oof = selection.oof_logits, rows.y[selection.served_index]
    if config.tune_priors and selection.report["n_splits"]:
        model.log_prior_shift = tune_prior_shift(y_oof, oof)
    if selection.report["n_splits"]:
        model.temperature = fit_temperature(y_oof, oof + model.log_prior_shift)
    oof_probs = softmax((oof + model.log_prior_shift) / model.temperature)
    model.manifest = {
        "selection": selection.report,
        "chosen": selection.chosen,
        "validation": compute_metrics(y_oof, oof_probs, list(config.classes)),
        "history": getattr(fitted, "history", []),
        "split": {"train": int(len(examples)), "augmentation_rows": int((~rows.served).sum())},
        "train_config": {
            "augment": config.augment,
            "tune_priors": config.tune_priors,
            "seed": config.selection.seed,
            "n_splits": config.selection.n_splits,
            "candidates": list(config.selection.candidates),
            "chosen_params": fitted.params,
        },
    }
    model.keras_head = getattr(fitted, "head", None)
    return model


def predict_examples(model: FusionModel, examples, config: PipelineConfig, calibrated=True):
    img, txt = features(examples, config)
    return model.probabilities_from_features(
        img, txt, calibrated=calibrated, texts=[e.text for e in examples]
    )


def report_for(
    model: FusionModel, y_test, probs, baseline_metrics=None, uncalibrated=None
) -> tuple[dict, dict[str, bytes]]:
    """Metrics, reliability and plots of `model` on a test (or gate) split."""
    test = compute_metrics(y_test, probs, model.classes)
    bins = reliability_bins(y_test, probs)
    report = {
        "test": test,
        "baselines": baseline_metrics or {},
        "validation": model.manifest.get("validation"),
        "selection": model.manifest.get("selection"),
        "history": model.manifest.get("history", []),
        "reliability": bins,
    }
    series = {"calibrated": bins}
    if uncalibrated is not None:
        before = reliability_bins(y_test, uncalibrated)
        series = {"before temperature scaling": before, "after": bins}
        report["calibration"] = {
            "method": "temperature scaling, fitted on out-of-fold logits of the training part",
            "temperature": model.temperature,
            "ece_before": expected_calibration_error(y_test, uncalibrated),
            "ece_after": expected_calibration_error(y_test, probs),
            "reliability_before": before,
        }
    plots = {
        "report/confusion_matrix.png": confusion_png(test["confusion_matrix"], model.classes),
        "report/reliability.png": reliability_png(series),
    }
    if report["history"]:
        plots["report/curves.png"] = curves_png(report["history"])
    return report, plots


def evaluate_on(model, train_examples, test_examples, config: PipelineConfig):
    """The held-out report: the model beside majority, prior and TF-IDF baselines."""
    y_train = label_indices(train_examples, config.classes)
    y_test = label_indices(test_examples, config.classes)
    probs = predict_examples(model, test_examples, config)
    raw = predict_examples(model, test_examples, config, calibrated=False)
    base = baselines(
        y_train,
        [e.text for e in train_examples],
        y_test,
        [e.text for e in test_examples],
        list(config.classes),
    )
    report, plots = report_for(model, y_test, probs, base, uncalibrated=raw)
    return report, plots, probs


def train_with_holdout(
    examples: list[Example],
    config: PipelineConfig,
    test_fraction: float = 0.2,
    groups: np.ndarray | None = None,
    callback=None,
) -> Outcome:
    """Hold out a stable grouped test part, select and train on the rest, report on both."""
    groups = duplicate_groups(examples) if groups is None else groups
    held_out = stable_holdout(examples, groups, test_fraction)
    y = label_indices(examples, config.classes)
    if held_out.all() or not held_out.any() or len(np.unique(y[~held_out])) < 2:
        raise ValueError(
            f"cannot hold out {test_fraction:.0%} of {len(examples)} examples and still "
            "train on both classes: add labelled examples"
        )
    rest, test = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    train_part = [examples[i] for i in rest]
    test_part = [examples[i] for i in test]
    model = train_model(train_part, config, groups[rest], callback)
    report, plots, _probs = evaluate_on(model, train_part, test_part, config)
    report["counts"] = {
        "examples": len(examples),
        "train": len(rest),
        "test": len(test),
        "per_class": {c: int((y == i).sum()) for i, c in enumerate(config.classes)},
    }
    report["data_fingerprint"] = data_fingerprint(examples)
    read = [e for e in test_part if e.alt_text.strip()]
    if read:
        # The skew between serving and a human reading: the same held-out memes scored on
        # the text the worker reads and on their transcription.
        other = [Example(e.image, e.alt_text, e.label, e.image_sha256, e.key) for e in read]
        y_read = label_indices(read, config.classes)
        report["skew"] = {
            "memes": len(read),
            "served_text": summary(
                compute_metrics(y_read, predict_examples(model, read, config), model.classes)
            ),
            "transcription": summary(
                compute_metrics(y_read, predict_examples(model, other, config), model.classes)
            ),
        }
    plots["report/README.md"] = render_report(report).encode()
    return Outcome(model, report, plots, [examples[i].key for i in test])


def _cell(metrics: dict | None, key: str) -> str:
    value = (metrics or {}).get(key)
    return "—" if value is None else f"{value:.3f}"


def render_report(report: dict) -> str:
    """The report as Markdown, for people reading the model folder."""
    lines = ["# Model report", ""]
    selection = report.get("selection") or {}
    if selection.get("candidates"):
        lines += [
            f"## Candidates: grouped {selection['n_splits']}-fold cross-validation",
            "",
            "| candidate | macro-F1 mean ± sd | AUROC mean ± sd |",
            "|---|---|---|",
        ]
        for name, c in selection["candidates"].items():
            f1 = f"{_cell(c, 'macro_f1_mean')} ± {_cell(c, 'macro_f1_sd')}"
            au = f"{_cell(c, 'auroc_mean')} ± {_cell(c, 'auroc_sd')}"
            lines.append(f"| {name} | {f1} | {au} |")
        lines += ["", f"Chosen: **{selection['chosen']}**: {selection['why']}.", ""]
        if selection.get("skipped"):
            lines += [f"Skipped: {selection['skipped']}", ""]
    counts = report.get("counts") or {}
    lines += [
        f"## Held-out memes ({report['test']['n']}; trained on {counts.get('train', '?')})",
        "",
        "| model | macro-F1 | AUROC | accuracy | ECE |",
        "|---|---|---|---|---|",
    ]
    rows = [("this model", report["test"]), *(report.get("baselines") or {}).items()]
    for name, m in rows:
        lines.append(
            f"| {name} | {_cell(m, 'macro_f1')} | {_cell(m, 'auroc')} | "
            f"{_cell(m, 'accuracy')} | {_cell(m, 'ece')} |"
        )
    skew = report.get("skew")
    if skew:
        lines += [
            "",
            f"## Served text against transcription ({skew['memes']} held-out memes)",
            "",
            "| text scored | macro-F1 | AUROC |",
            "|---|---|---|",
            f"| served (OCR + caption) | {_cell(skew['served_text'], 'macro_f1')} | "
            f"{_cell(skew['served_text'], 'auroc')} |",
            f"| transcription | {_cell(skew['transcription'], 'macro_f1')} | "
            f"{_cell(skew['transcription'], 'auroc')} |",
        ]
    matrix = report["test"]["confusion_matrix"]
    classes = report["test"]["classes"]
    lines += ["", "## Confusion matrix (rows: true, columns: predicted)", ""]
    lines += ["| | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    lines += [
        f"| {c} | " + " | ".join(str(v) for v in row) + " |"
        for c, row in zip(classes, matrix, strict=True)
    ]
    cal = report.get("calibration")
    if cal:
        lines += [
            "",
            "## Calibration",
            "",
            f"{cal['method']}: temperature {cal['temperature']:.3f}, ECE "
            f"{_cell(cal, 'ece_before')} before, {_cell(cal, 'ece_after')} after "
            "(report/reliability.png).",
        ]
    return "\n".join(lines) + "\n"


def summary_info(report: dict, trained_by: str, parent=None) -> dict:
    return {
        "metrics": summary(report["test"]),
        "data_fingerprint": report.get("data_fingerprint"),
        "training_counts": report.get("counts"),
        "parent": parent,
        "trained_by": trained_by,
        "chosen": (report.get("selection") or {}).get("chosen"),
    }
