"""The one place that draws the confusion matrix, the reliability diagram and training curves.

Training reports and the moderators' dashboard both call these. matplotlib's object
API (``Figure`` + the Agg canvas), not pyplot: no global state, so concurrent requests
in the web process cannot draw on each other. matplotlib is imported on first use only
(about 0.7 s), so importing this module is free.
"""

from __future__ import annotations

import io

import numpy as np


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def confusion_png(
    matrix,
    classes: list[str],
    *,
    title: str = "Confusion matrix",
    xlabel: str = "predicted",
    ylabel: str = "true",
) -> bytes:
    """matrix[i][j]: examples of classes[i] predicted as classes[j]."""
    matrix = np.asarray(matrix if len(matrix) else [[0]], dtype=int)
    size = max(3.5, 1.0 + 0.9 * len(classes))
    figure = _figure(figsize=(size, size))
    ax = figure.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    peak = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = "white" if peak and matrix[i, j] > peak / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour)
    return _png(figure)


def reliability_png(
    series: dict[str, list[dict]] | list[dict],
    *,
    title: str = "Reliability diagram",
    xlabel: str = "confidence of the predicted class",
    ylabel: str = "accuracy",
) -> bytes:
    """Accuracy against confidence per bin (ml.metrics.reliability_bins), one line per series.

    With one series its bins are also drawn as bars, so empty and sparse bins show.
    """
    if isinstance(series, list):
        series = {"model": series}
    figure = _figure(figsize=(4.5, 4.5))
    ax = figure.add_subplot()
    if len(series) == 1:
        bins = next(iter(series.values()))
        filled = [b for b in bins if b["count"]]
        width = (bins[0]["hi"] - bins[0]["lo"]) if bins else 0.1
        ax.bar(
            [b["lo"] for b in filled],
            [b["accuracy"] for b in filled],
            width=width,
            align="edge",
            edgecolor="#205081",
            color="#79aec8",
            label="accuracy per bin",
        )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    for name, bins in series.items():
        filled = [b for b in bins if b["count"]]
        if filled:
            ax.plot(
                [b["confidence"] for b in filled],
                [b["accuracy"] for b in filled],
                marker="o",
                label=name,
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return _png(figure)


def curves_png(history: list[dict]) -> bytes:
    """Loss and validation metrics per epoch of a Keras head."""
    figure = _figure(figsize=(10, 3.8))
    left, right = figure.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    for key in ("loss", "val_loss"):
        left.plot(epochs, [h.get(key) for h in history], marker="o", label=key)
    left.set_xlabel("epoch")
    left.set_title("loss")
    left.legend()
    for key in ("accuracy", "val_accuracy", "val_macro_f1", "val_auroc"):
        if any(h.get(key) is not None for h in history):
            right.plot(epochs, [h.get(key) for h in history], marker="o", label=key)
    right.set_xlabel("epoch")
    right.set_title("metrics")
    right.legend()
    return _png(figure)


def learning_curve_png(rows: list[dict], metric: str, *, title: str) -> bytes:
    """One line per (model, text source): `metric` against the number of training labels."""
    figure = _figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    lines: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        if row.get(metric) is not None:
            lines.setdefault(f"{row['model']} ({row['text']})", []).append(
                (row["n_train"], row[metric])
            )
    for name, points in sorted(lines.items()):
        points.sort()
        style = "-" if name.endswith("(ocr)") else ":"
        ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("training labels")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize="x-small", loc="lower right")
    return _png(figure)
