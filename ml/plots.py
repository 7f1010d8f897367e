"""The one place that draws the confusion matrix, the reliability diagram and training curves.

Training reports and the moderators' dashboard both call these. matplotlib's object
API (``Figure`` + the Agg canvas), not pyplot: no global state, so concurrent requests
in the web process cannot draw on each other. matplotlib is imported on first use only
(about 0.7 s), so importing this module is free.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Theme:
    """The colours of a plot, so it sits on the page it is shown on (the site's light and
    dark palettes, static/css/site.css)."""

    background: str
    text: str
    muted: str
    # Confusion-matrix cells, from an empty cell to the fullest one, and the count's
    # colour on cells past half full (on the others it is `text`).
    cell_empty: str
    cell_full: str
    text_on_full: str
    bar: str
    bar_edge: str
    # The line of a lone series, drawn over the bars.
    line: str


THEMES = {
    "light": Theme(
        background="#ffffff",
        text="#222222",
        muted="#5f6368",
        cell_empty="#f7fbff",
        cell_full="#08306b",
        text_on_full="#ffffff",
        bar="#79aec8",
        bar_edge="#205081",
        line="#1f77b4",
    ),
    "dark": Theme(
        background="#1c1f24",
        text="#e4e6e9",
        muted="#a0a6ad",
        cell_empty="#1c1f24",
        cell_full="#7fb7d4",
        text_on_full="#1c1f24",
        bar="#3d6f88",
        bar_edge="#a9d1e6",
        line="#f5dd5d",
    ),
}


def _theme(name: str) -> Theme:
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"Unknown plot theme {name!r}; one of {', '.join(THEMES)}.") from None


_import_lock = threading.Lock()


def _matplotlib():
    """matplotlib's Figure and Agg canvas, imported once under a lock.

    Two threads of the web process drawing the dashboard's two plots at once would
    otherwise import matplotlib concurrently, and one can get the half-initialised
    module ("module 'matplotlib' has no attribute 'get_data_path'": a 500, seen in the
    browser tests).
    """
    with _import_lock:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import LinearSegmentedColormap
        from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg, LinearSegmentedColormap


def _figure(theme: Theme, **kwargs):
    figure_class, _, _ = _matplotlib()
    return figure_class(facecolor=theme.background, **kwargs)


def _png(figure, theme: Theme) -> bytes:
    _, canvas_class, _ = _matplotlib()

    # Colours set on the figure's own artists, not through rcParams: those are global
    # state shared by every thread of the web process.
    for ax in figure.axes:
        ax.set_facecolor(theme.background)
        ax.tick_params(colors=theme.text, which="both")
        for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
            text.set_color(theme.text)
        for spine in ax.spines.values():
            spine.set_edgecolor(theme.muted)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor(theme.background)
            legend.get_frame().set_edgecolor(theme.muted)
            for text in legend.get_texts():
                text.set_color(theme.text)
    canvas_class(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", facecolor=theme.background)
    return buffer.getvalue()


def confusion_png(
    matrix,
    classes: list[str],
    *,
    title: str = "Confusion matrix",
    xlabel: str = "predicted",
    ylabel: str = "true",
    theme: str = "light",
) -> bytes:
    """matrix[i][j]: examples of classes[i] predicted as classes[j]."""
    _, _, colormap_class = _matplotlib()
    colours = _theme(theme)
    matrix = np.asarray(matrix if len(matrix) else [[0]], dtype=int)
    size = max(3.5, 1.0 + 0.9 * len(classes))
    figure = _figure(colours, figsize=(size, size))
    ax = figure.add_subplot()
    cells = colormap_class.from_list("cells", [colours.cell_empty, colours.cell_full])
    image = ax.imshow(matrix, cmap=cells, vmin=0)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04).outline.set_edgecolor(colours.muted)
    ticks = range(len(classes))
    ax.set_xticks(ticks, classes, rotation=45, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    peak = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            full = peak and matrix[i, j] > peak / 2
            colour = colours.text_on_full if full else colours.text
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour)
    return _png(figure, colours)


def reliability_png(
    series: dict[str, list[dict]] | list[dict],
    *,
    title: str = "Reliability diagram",
    xlabel: str = "confidence of the predicted class",
    ylabel: str = "accuracy",
    theme: str = "light",
) -> bytes:
    """Accuracy against confidence per bin (ml.metrics.reliability_bins), one line per series.

    With one series its bins are also drawn as bars, so empty and sparse bins show.
    """
    colours = _theme(theme)
    if isinstance(series, list):
        series = {"model": series}
    figure = _figure(colours, figsize=(4.5, 4.5))
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
            edgecolor=colours.bar_edge,
            color=colours.bar,
            label="accuracy per bin",
        )
    ax.plot([0, 1], [0, 1], "--", color=colours.muted, label="perfect calibration")
    for name, bins in series.items():
        filled = [b for b in bins if b["count"]]
        if filled:
            ax.plot(
                [b["confidence"] for b in filled],
                [b["accuracy"] for b in filled],
                marker="o",
                label=name,
                # Several series take matplotlib's colour cycle.
                color=colours.line if len(series) == 1 else None,
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return _png(figure, colours)


def curves_png(history: list[dict]) -> bytes:
    """Loss and validation metrics per epoch of a Keras head."""
    figure = _figure(THEMES["light"], figsize=(10, 3.8))
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
    return _png(figure, THEMES["light"])


def learning_curve_png(rows: list[dict], metric: str, *, title: str) -> bytes:
    """One line per (model, text source): `metric` against the number of training labels."""
    figure = _figure(THEMES["light"], figsize=(7, 4.5))
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
    return _png(figure, THEMES["light"])
