"""Reading order of text lines by layout: panels first, then lines top to bottom.

RapidOCR sorts its boxes top to bottom over the whole image, so a two-panel comic comes
out with the speech bubbles of both panels interleaved by height. Memes are laid out in
panels separated by gutters (a straight band of one colour across the whole picture), so
we cut the image at its gutters, recursively (an XY-cut, with the cuts taken from the
pixels rather than from the gaps between boxes, which would also split a single caption
whose lines happen to be short), and read the panels row by row, left to right. Inside a
panel, lines are read top to bottom, and left to right within one row of text.
"""

from dataclasses import dataclass

import numpy as np

# A gutter's pixels vary by less than this (0-255 grey levels) along the cut...
GUTTER_STD = 6.0
# ...and it is at least this wide, in pixels, so a one-pixel rule inside a photo is no cut.
MIN_GUTTER = 3
# Panels narrower or shorter than this share of the region are no panels (borders, margins).
MIN_PANEL = 0.15
# Deeper than this the regions are too small to hold panels of their own.
MAX_DEPTH = 4


@dataclass(frozen=True)
class Box:
    """An axis-aligned text line: left, top, right, bottom in pixels."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2

    @classmethod
    def from_points(cls, points: np.ndarray) -> "Box":
        xs, ys = points[:, 0], points[:, 1]
        return cls(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))


def reading_order(grey: np.ndarray, boxes: list[Box]) -> list[int]:
    """Return the indices of `boxes` in reading order on the greyscale image `grey`."""
    return _order(grey.astype(np.float32), boxes, list(range(len(boxes))), 0, 0, 0)


def _order(grey, boxes, indices, x0, y0, depth) -> list[int]:
    if len(indices) <= 1 or depth >= MAX_DEPTH:
        return _lines(boxes, indices)
    # Rows of panels first: in a grid, the top row is read before the bottom one.
    for axis in (0, 1):
        cut = _gutter(grey, axis, [boxes[i] for i in indices], x0, y0)
        if cut is None:
            continue
        first = [i for i in indices if _centre(boxes[i], axis) < cut]
        second = [i for i in indices if _centre(boxes[i], axis) >= cut]
        if not first or not second:
            continue
        local = cut - (y0 if axis == 0 else x0)
        if axis == 0:
            head, tail = grey[:local], grey[local:]
            return _order(head, boxes, first, x0, y0, depth + 1) + _order(
                tail, boxes, second, x0, cut, depth + 1
            )
        head, tail = grey[:, :local], grey[:, local:]
        return _order(head, boxes, first, x0, y0, depth + 1) + _order(
            tail, boxes, second, cut, y0, depth + 1
        )
    return _lines(boxes, indices)


def _centre(box: Box, axis: int) -> float:
    return box.centre[1] if axis == 0 else box.centre[0]


def _gutter(grey, axis, boxes, x0, y0) -> int | None:
    """The middle of the widest gutter across `grey` along `axis` that no box crosses.

    axis 0 looks for a horizontal band (a cut between rows of panels), axis 1 for a
    vertical one. The result is in image coordinates.
    """
    length = grey.shape[axis]
    if length < 2 * MIN_GUTTER:
        return None
    uniform = grey.std(axis=1 - axis) < GUTTER_STD
    offset = y0 if axis == 0 else x0
    for box in boxes:
        start, end = (box.top, box.bottom) if axis == 0 else (box.left, box.right)
        uniform[max(0, int(start) - offset) : max(0, int(end) + 1 - offset)] = False
    best: tuple[int, int] | None = None
    run_start = None
    for position, flag in enumerate([*uniform, False]):
        if flag and run_start is None:
            run_start = position
        elif not flag and run_start is not None:
            width = position - run_start
            inside = run_start > MIN_PANEL * length and position < (1 - MIN_PANEL) * length
            if width >= MIN_GUTTER and inside and (best is None or width > best[1] - best[0]):
                best = (run_start, position)
            run_start = None
    if best is None:
        return None
    return offset + (best[0] + best[1]) // 2


def _lines(boxes: list[Box], indices: list[int]) -> list[int]:
    """Top to bottom; boxes whose vertical centres are within half a line are one row."""
    ordered = sorted(indices, key=lambda i: boxes[i].centre[1])
    rows: list[list[int]] = []
    for index in ordered:
        box = boxes[index]
        if rows:
            last = boxes[rows[-1][-1]]
            height = min(box.bottom - box.top, last.bottom - last.top)
            if abs(box.centre[1] - last.centre[1]) < height / 2:
                rows[-1].append(index)
                continue
        rows.append([index])
    return [index for row in rows for index in sorted(row, key=lambda i: boxes[i].left)]
