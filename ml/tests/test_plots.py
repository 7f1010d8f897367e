"""ml.plots: real PNGs in the site's light and dark palettes, safe to draw from threads."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ml import plots

BINS = [
    {"lo": i / 10, "hi": (i + 1) / 10, "count": c, "confidence": i / 10 + 0.05, "accuracy": i / 10}
    for i, c in enumerate([0, 0, 0, 3, 8, 12, 15, 10, 6, 4])
]


def drawn(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_both_plots_are_drawn_on_the_themes_background(theme):
    background = tuple(int(plots.THEMES[theme].background[i : i + 2], 16) for i in (1, 3, 5))
    confusion = drawn(plots.confusion_png([[30, 5], [4, 20]], ["a", "b"], theme=theme))
    reliability = drawn(plots.reliability_png(BINS, theme=theme))
    for image in (confusion, reliability):
        assert image.getpixel((0, 0)) == background
        assert image.getpixel((image.width - 1, image.height - 1)) == background


def test_an_unknown_theme_is_refused_by_name():
    with pytest.raises(ValueError, match="'purple'; one of light, dark"):
        plots.confusion_png([[1]], ["a"], theme="purple")


def test_the_first_plots_of_a_process_can_be_drawn_by_two_threads_at_once():
    # matplotlib is imported on first use; the dashboard's two plots, requested together,
    # imported different parts of it from two threads and one could see a half-initialised
    # module (an AttributeError, a 500). A new process, so that the import really is the
    # first; repeated to catch the race.
    code = """
import threading
from ml import plots
errors = []
def draw(kind):
    try:
        if kind:
            plots.confusion_png([[1, 2], [3, 4]], ["a", "b"])
        else:
            plots.reliability_png([])
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=draw, args=(i % 2,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(errors or "ok")
"""
    root = Path(__file__).resolve().parents[2]
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
        )
        assert result.stdout.strip() == "ok", result.stdout + result.stderr
