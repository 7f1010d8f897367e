"""PNG plots for the dashboard.

Figures are built with matplotlib's object API (``Figure`` + the Agg canvas) rather
than pyplot: no global state, so concurrent requests cannot draw on each other.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from moderation.selectors.dashboard import Confusion, Reliability

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(**kwargs) -> Figure:
    # matplotlib costs ~0.7 s to import: only the plot views pay it, not every process.
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def confusion_png(confusion: Confusion, *, title: str) -> bytes:
    size = max(3.5, 1.0 + 0.9 * len(confusion.classes))
    figure = _figure(figsize=(size, size))
    ax = figure.add_subplot()
    matrix = confusion.matrix or [[0]]
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = range(len(confusion.classes))
    ax.set_xticks(ticks, confusion.classes, rotation=45, ha="right")
    ax.set_yticks(ticks, confusion.classes)
    ax.set_xlabel("Model said")
    ax.set_ylabel("Moderators said")
    ax.set_title(f"{title} (n={confusion.n})")
    peak = max((v for row in confusion.matrix for v in row), default=0)
    for i, row in enumerate(confusion.matrix):
        for j, value in enumerate(row):
            colour = "white" if peak and value > peak / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", color=colour)
    return _png(figure)


def reliability_png(reliability: Reliability, *, title: str) -> bytes:
    figure = _figure(figsize=(4.5, 4.5))
    ax = figure.add_subplot()
    filled = [b for b in reliability.bins if b.count]
    width = reliability.bins[0].high - reliability.bins[0].low if reliability.bins else 0.1
    ax.bar(
        [b.low for b in filled],
        [b.accuracy for b in filled],
        width=width,
        align="edge",
        edgecolor="#205081",
        color="#79aec8",
        label="Accuracy",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="Perfect calibration")
    ax.plot(
        [b.mean_confidence for b in filled],
        [b.accuracy for b in filled],
        marker="o",
        color="#ba2121",
        label="Bin accuracy at its mean confidence",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Model confidence")
    ax.set_ylabel("Share the moderators agreed with")
    ece = "—" if reliability.ece is None else f"{reliability.ece:.3f}"
    ax.set_title(f"{title} (n={reliability.n}, ECE={ece})")
    ax.legend(loc="upper left", fontsize="small")
    return _png(figure)
