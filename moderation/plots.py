"""PNG plots for the dashboard, drawn by ml.plots (the one module that draws them).

The dashboard's selectors give a Confusion and a Reliability; this module only hands
their numbers to ml.plots with the dashboard's titles and axis labels.
"""

from __future__ import annotations

from ml import plots
from moderation.selectors.dashboard import Confusion, Reliability

THEMES = tuple(plots.THEMES)


def confusion_png(confusion: Confusion, *, title: str, theme: str = "light") -> bytes:
    return plots.confusion_png(
        confusion.matrix or [[0]],
        confusion.classes,
        title=f"{title} (n={confusion.n})",
        xlabel="Model said",
        ylabel="Moderators said",
        theme=theme,
    )


def reliability_png(reliability: Reliability, *, title: str, theme: str = "light") -> bytes:
    bins = [
        {
            "lo": b.low,
            "hi": b.high,
            "count": b.count,
            "confidence": b.mean_confidence,
            "accuracy": b.accuracy,
        }
        for b in reliability.bins
    ]
    ece = "—" if reliability.ece is None else f"{reliability.ece:.3f}"
    return plots.reliability_png(
        {"bin accuracy at its mean confidence": bins},
        title=f"{title} (n={reliability.n}, ECE={ece})",
        xlabel="Model confidence",
        ylabel="Share the moderators agreed with",
        theme=theme,
    )
