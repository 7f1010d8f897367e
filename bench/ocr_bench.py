"""Benchmark the OCR engines on meme-style captions rendered over real photos.

    .venv/bin/python -m bench.ocr_bench                      # every engine, 48 + 100 images
    .venv/bin/python -m bench.ocr_bench --n 12 --memotion 0 --engines tesseract rapidocr
    .venv/bin/python -m bench.ocr_bench --seed 7 --save /tmp/memes   # other memes, kept

Two tables. The first is rendered memes whose exact words we know: captions from a fixed
list, drawn in a bold sans font as white letters with a black outline (top and bottom, the
classic style; or one subtitle line) or black letters on a white band (the newer style),
over crops of the two photos scikit-learn ships (no text in them, so every extra word an
engine reports is a real false positive), at sizes from Memotion's 128x128 up to 800x600,
saved as JPEG. The second is real Memotion memes against their human `text_corrected`.

Word recall is the fraction of ground-truth words found, word precision the fraction of
reported words that are in the ground truth (both as multisets, case-insensitive,
apostrophes dropped, other punctuation splitting words), pooled over all images. Time is
per image on one thread (tesseract with OMP_THREAD_LIMIT=1, onnxruntime with one thread).
"""

import argparse
import csv
import io
import os
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SEED = 20240611
MEMOTION = Path(os.environ.get("MEMOTION_DIR", "/work/shared/data/memotion_7k"))
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation")]
# Impact is not free; these are the nearest bold sans faces in Debian's default fonts.
FONTS = ["DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "LiberationSansNarrow-Bold.ttf"]

CAPTIONS = [
    ("One does not simply", "walk into Mordor"),
    ("When you finally fix the bug", "and three new ones appear"),
    ("Me at 3 am", "thinking about that thing I said in 2009"),
    ("I don't always test my code", "but when I do I do it in production"),
    ("What if I told you", "you can sleep before midnight"),
    ("Brace yourselves", "Monday is coming"),
    ("Shut up and", "take my money"),
    ("Keep calm", "and drink more coffee"),
    ("My face when", "the wifi comes back on"),
    ("That feeling when", "you find money in your old jacket"),
    ("When the teacher says", "the test is open book"),
    ("Not sure if tired", "or just lazy"),
    ("Ain't nobody", "got time for that"),
    ("All the things", "I will do tomorrow"),
    ("When your mom calls you", "by your full name"),
    ("I'm not saying it was aliens", "but it was aliens"),
    ("Gets up to get water", "forgets why"),
    ("Just one more episode", "said nobody at 4 am ever"),
    ("Look there my friend", "ten year challenge everywhere"),
    ("Happy birthday", "you old potato"),
    ("When the pizza arrives", "five minutes early"),
    ("So you're telling me", "the weekend is only two days"),
    ("Drink water", "you may not"),
    ("I said I would start my diet today", "but the cake looked sad"),
    ("Winter is coming", "said every weather app"),
    ("First day at the gym", "last day at the gym"),
    ("When someone says", "they don't like pizza"),
    ("Why is it called a building", "if it is already built"),
    ("I have no idea", "what I am doing"),
    ("Spend all week waiting for the weekend", "sleep through it"),
    ("How they show green tea", "what it actually tastes like"),
    ("Nobody asked", "but here is my opinion anyway"),
    ("When the code works", "on the first try"),
    ("Yes I am a doctor", "a doctor of memes"),
    ("Tell me you are tired", "without telling me you are tired"),
    ("Hitting the escape key", "but I am still here"),
]

# (rendered size, stored size): small memes are drawn large and squashed to 128x128
# without keeping the aspect ratio, the way the Memotion copies were made.
SIZES = [((512, 512), (128, 128)), ((600, 450), (256, 256)), ((500, 375), None), ((800, 600), None)]
STYLES = ["impact", "band", "subtitle"]


@dataclass
class Sample:
    image: Image.Image
    text: str
    group: str


def words(text: str) -> list[str]:
    """Lower-case words with apostrophes dropped and other punctuation splitting words."""
    return re.findall(r"[a-z0-9]+", re.sub(r"['\u2019`]", "", text.lower()))


def load_photos() -> list[Image.Image]:
    from sklearn.datasets import load_sample_images

    return [Image.fromarray(array) for array in load_sample_images().images]


def find_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    raise SystemExit(f"font {name} not found: apt-get install fonts-dejavu-core fonts-liberation")


def crop_photo(photo: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    width = rng.uniform(0.4, 1.0) * photo.width
    height = min(photo.height, width * size[1] / size[0])
    left = rng.uniform(0, photo.width - width)
    top = rng.uniform(0, photo.height - height)
    crop = photo.crop((round(left), round(top), round(left + width), round(top + height)))
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return crop.resize(size, Image.Resampling.BICUBIC)


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def fit(text: str, font_name: str, start: int, max_width: float, max_lines: int):
    """Return the largest font (from `start` down) that wraps `text` into `max_lines`."""
    for size in range(start, 7, -1):
        font = find_font(font_name, size)
        lines = wrap(text, font, max_width)
        if len(lines) <= max_lines and all(font.getlength(line) <= max_width for line in lines):
            return font, lines
    return font, lines


def draw_lines(draw, lines, font, width, top, fill, stroke):
    line_height = font.size * 1.15
    for row, line in enumerate(lines):
        x = (width - font.getlength(line)) / 2
        draw.text(
            (x, top + row * line_height),
            line,
            font=font,
            fill=fill,
            stroke_width=stroke,
            stroke_fill="black",
        )
    return len(lines) * line_height


def render(index: int, photos: list[Image.Image], seed: int = SEED) -> Sample:
    """Render meme number `index`; the same index and seed give the same image."""
    rng = random.Random(seed + index)
    order = random.Random(seed).sample(range(len(CAPTIONS)), len(CAPTIONS))
    top_text, bottom_text = CAPTIONS[order[index % len(CAPTIONS)]]
    (width, height), stored = SIZES[index % len(SIZES)]
    style = STYLES[(index // len(SIZES)) % len(STYLES)]
    font_name = rng.choice(FONTS)
    photo = rng.choice(photos)
    margin = 0.94 * width
    if style == "band":
        text = f"{top_text} {bottom_text}"
        font, lines = fit(text, font_name, round(height * 0.075), margin, 3)
        band = round(len(lines) * font.size * 1.15 + font.size * 0.8)
        image = Image.new("RGB", (width, height), "white")
        image.paste(crop_photo(photo, (width, height - band), rng), (0, band))
        draw_lines(ImageDraw.Draw(image), lines, font, width, font.size * 0.4, "black", 0)
    else:
        image = crop_photo(photo, (width, height), rng)
        draw = ImageDraw.Draw(image)
        if style == "impact":
            text = f"{top_text} {bottom_text}".upper()
            parts = [top_text.upper(), bottom_text.upper()]
            start = round(height * 0.11)
        else:
            text = bottom_text
            parts = [bottom_text]
            start = round(height * 0.08)
        for position, part in enumerate(parts):
            font, lines = fit(part, font_name, start, margin, 2)
            stroke = max(1, round(font.size / 12))
            block = len(lines) * font.size * 1.15
            top = height * 0.03 if position == 0 and len(parts) == 2 else height * 0.96 - block
            draw_lines(draw, lines, font, width, top, "white", stroke)
    if stored:
        image = image.resize(stored, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.randint(70, 90))
    group = f"{image.width}px" if image.width < 300 else ">=375px"
    return Sample(Image.open(buffer).convert("RGB"), text, group)


def memotion_samples(count: int, seed: int = SEED) -> list[Sample]:
    with open(MEMOTION / "labels.csv", newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if words(row["text_corrected"] or "")]
    rows.sort(key=lambda row: row["image_name"])
    picked = random.Random(seed).sample(rows, count)
    return [
        Sample(
            Image.open(MEMOTION / "images" / row["image_name"]).convert("RGB"),
            row["text_corrected"],
            "memotion",
        )
        for row in picked
    ]


@dataclass
class Result:
    engine: str
    recall: float
    precision: float
    group_recall: dict[str, float]
    p50: float
    p95: float


def evaluate(name: str, factory: Callable, samples: list[Sample]) -> Result:
    engine = factory()
    engine.read(samples[0].image)  # warm up: first-call allocations are not per-image cost
    found = Counter()
    truth = Counter()
    reported = 0
    seconds = []
    for sample in samples:
        start = time.perf_counter()
        text = engine.read(sample.image)
        seconds.append(time.perf_counter() - start)
        expected, got = Counter(words(sample.text)), Counter(words(text))
        matched = sum((expected & got).values())
        found[sample.group] += matched
        truth[sample.group] += sum(expected.values())
        reported += sum(got.values())
    return Result(
        engine=name,
        recall=sum(found.values()) / sum(truth.values()),
        precision=sum(found.values()) / reported if reported else 0.0,
        group_recall={group: found[group] / truth[group] for group in truth},
        p50=statistics.median(seconds),
        p95=float(np.percentile(seconds, 95)),
    )


def table(results: list[Result], groups: list[str]) -> str:
    header = ["engine", "word recall", "word precision"]
    header += [f"recall {group}" for group in groups] + ["p50 s/img", "p95 s/img"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        cells = [result.engine, f"{result.recall:.3f}", f"{result.precision:.3f}"]
        cells += [f"{result.group_recall[group]:.3f}" for group in groups]
        cells += [f"{result.p50:.2f}", f"{result.p95:.2f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    from ml.ocr import ENGINES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=48, help="rendered memes (default 48)")
    parser.add_argument("--memotion", type=int, default=100, help="Memotion memes (default 100)")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--seed", type=int, default=SEED, help="another seed: other memes")
    parser.add_argument("--save", type=Path, help="also write the rendered memes here")
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    photos = load_photos()
    rendered = [render(index, photos, args.seed) for index in range(args.n)]
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for index, sample in enumerate(rendered):
            sample.image.save(args.save / f"{index:03d}.png")
    groups = sorted({sample.group for sample in rendered}, key=lambda g: (len(g), g))
    total = sum(len(words(sample.text)) for sample in rendered)
    print(f"Seed {args.seed}. Rendered memes: {args.n} images, {total} words")
    print(table([evaluate(name, ENGINES[name], rendered) for name in args.engines], groups))
    if args.memotion:
        real = memotion_samples(args.memotion, args.seed)
        print(f"\nMemotion 128x128 memes vs text_corrected: {args.memotion} images")
        print(table([evaluate(name, ENGINES[name], real) for name in args.engines], []))
    print(f"\nload average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
