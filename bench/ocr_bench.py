"""Benchmark the OCR engines and their settings on real memes and on rendered ones.

    .venv/bin/python -m bench.ocr_bench                    # every setting, 200 real + 48 rendered
    .venv/bin/python -m bench.ocr_bench --real 1464 --settings rapidocr rapidocr-v1
    .venv/bin/python -m bench.ocr_bench --seed 7 --save /tmp/memes   # other memes, kept

The first table is real memes: `shared/data/religious_hateful` at its own resolution (up to
800 px, the size platforms serve), a fixed random sample, against the dataset's `text`
transcription. Besides word recall and precision it gives the reading order, as the
normalised edit distance between the transcription's word sequence and the engine's
("edit", over all words, so missed words count too) and the same over only the words both
have ("order", 0 when the shared words come in the same order), and each stage's CPU time.

The second is rendered memes whose exact words we know: captions from a fixed
list, drawn in a bold sans font as white letters with a black outline (top and bottom, the
classic style; or one subtitle line) or black letters on a white band (the newer style),
over crops of the two photos scikit-learn ships (no text in them, so every extra word an
engine reports is a real false positive), at sizes from Memotion's 128x128 up to 800x600,
saved as JPEG. A third, optional (--memotion N), is 128 px Memotion memes against their
human `text_corrected`.

Word recall is the fraction of ground-truth words found, word precision the fraction of
reported words that are in the ground truth (both as multisets, case-insensitive,
apostrophes dropped, other punctuation splitting words), pooled over all images. Time is
CPU time of this process per image, on one thread (tesseract with OMP_THREAD_LIMIT=1, whose
child process's CPU time is counted, onnxruntime with one thread), so that figures taken on
a busy machine still say what an image costs one core.
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
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MEMOTION = Path(os.environ.get("MEMOTION_DIR", SHARED / "memotion_7k"))
REAL = Path(os.environ.get("REAL_MEMES_DIR", SHARED / "religious_hateful"))
os.environ["OMP_THREAD_LIMIT"] = "1"
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


def real_samples(count: int, seed: int = SEED) -> list[Sample]:
    """A fixed random sample of religious_hateful memes with a transcription."""
    with open(REAL / "labels.csv", newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if words(row["text"] or "")]
    rows.sort(key=lambda row: row["image_name"])
    picked = random.Random(seed).sample(rows, min(count, len(rows)))
    return [
        Sample(Image.open(REAL / "images" / row["image_name"]).convert("RGB"), row["text"], "real")
        for row in picked
    ]


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


def edit_distance(first: list[str], second: list[str]) -> int:
    """Levenshtein distance between word sequences.

    Written here because no pinned package has it and the dynamic programme is short.
    """
    previous = list(range(len(second) + 1))
    for row, word in enumerate(first, 1):
        current = [row]
        for column, other in enumerate(second, 1):
            current.append(
                min(previous[column] + 1, current[-1] + 1, previous[column - 1] + (word != other))
            )
        previous = current
    return previous[-1]


def shared_words(first: list[str], second: list[str]) -> list[str]:
    """`first` with the words `second` does not have (as a multiset) left out."""
    left = Counter(second)
    kept = []
    for word in first:
        if left[word]:
            left[word] -= 1
            kept.append(word)
    return kept


def order_distances(expected: list[str], got: list[str]) -> tuple[float, float]:
    """Normalised edit distance over all words, and over the words both sequences have."""
    edit = edit_distance(expected, got) / max(len(expected), len(got), 1)
    mine, theirs = shared_words(expected, got), shared_words(got, expected)
    order = edit_distance(mine, theirs) / max(len(mine), 1)
    return edit, order


@dataclass
class Result:
    engine: str
    recall: float
    precision: float
    group_recall: dict[str, float]
    p50: float
    p95: float
    edit: float = 0.0
    order: float = 0.0
    stages: dict[str, tuple[float, float]] | None = None


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (tesseract runs as one)."""
    own = time.process_time()
    children = os.times()
    return own + children.children_user + children.children_system


def evaluate(name: str, factory: Callable, samples: list[Sample]) -> Result:
    engine = factory()
    engine.read(samples[0].image)  # warm up: first-call allocations are not per-image cost
    timed = getattr(engine, "read_timed", None)
    found = Counter()
    truth = Counter()
    reported = 0
    seconds = []
    stage_seconds: dict[str, list[float]] = {}
    edits, orders = [], []
    for sample in samples:
        start = cpu_seconds()
        if timed:
            text, stages = timed(sample.image)
            for stage, value in stages.items():
                stage_seconds.setdefault(stage, []).append(value)
        else:
            text = engine.read(sample.image)
        seconds.append(cpu_seconds() - start)
        expected_words, got_words = words(sample.text), words(text)
        edit, order = order_distances(expected_words, got_words)
        edits.append(edit)
        orders.append(order)
        expected, got = Counter(expected_words), Counter(got_words)
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
        edit=statistics.mean(edits),
        order=statistics.mean(orders),
        stages={
            stage: (statistics.median(values), float(np.percentile(values, 95)))
            for stage, values in stage_seconds.items()
        },
    )


def table(results: list[Result], groups: list[str], order: bool = False) -> str:
    header = ["setting", "word recall", "word precision"]
    header += [f"recall {group}" for group in groups]
    if order:
        header += ["edit", "order", "ms p50", "ms p95", "detect p50/p95", "angle", "recognise"]
    else:
        header += ["ms p50", "ms p95"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        cells = [result.engine, f"{result.recall:.3f}", f"{result.precision:.3f}"]
        cells += [f"{result.group_recall[group]:.3f}" for group in groups]
        if order:
            cells += [f"{result.edit:.3f}", f"{result.order:.3f}"]
        cells += [f"{result.p50 * 1000:.0f}", f"{result.p95 * 1000:.0f}"]
        if order:
            stages = result.stages or {}
            for stage in ("detect", "classify", "recognise"):
                p50, p95 = stages.get(stage, (float("nan"), float("nan")))
                cells.append(f"{p50 * 1000:.0f} / {p95 * 1000:.0f}")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def rapid(**settings) -> Callable:
    def factory():
        from ml.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(**settings)

    return factory


def quantised(**settings) -> Callable:
    """The engine with int8 dynamically quantised models, built into a temporary folder."""

    def factory():
        import tempfile

        from onnxruntime.quantization import QuantType, quantize_dynamic
        from rapidocr import main as rapidocr_main

        models = Path(rapidocr_main.__file__).parent / "models"
        folder = Path(tempfile.mkdtemp(prefix="ocr-int8-"))
        paths = {}
        for role, name, ops in (
            ("det_model", "PP-OCRv6_det_small", None),
            ("rec_model", "PP-OCRv6_rec_small", settings.pop("rec_ops", None)),
        ):
            if role not in settings.pop("quantise", ("det_model", "rec_model")):
                continue
            paths[role] = str(folder / f"{name}.int8.onnx")
            quantize_dynamic(
                str(models / f"{name}.onnx"),
                paths[role],
                weight_type=QuantType.QInt8,
                op_types_to_quantize=ops,
            )
        return rapid(**settings, **paths)()

    return factory


# Every engine, then the rapidocr settings measured against the default (docs/benchmarks.md).
SETTINGS: dict[str, Callable] = {
    "rapidocr": rapid(),
    # The settings before issue 13: RapidOCR's own detector limit and angle classifier,
    # batches of 6 lines padded to 320 px, lines in RapidOCR's order, small images upscaled.
    "rapidocr-v1": rapid(
        det_limit="min", det_side=736, angle="all", rec_batch=6, rec_width=320, layout=False
    ),
    "float32 det": rapid(det_int8=False),
    "det max 576": rapid(det_side=576),
    "det max 640": rapid(det_side=640),
    "det max 960": rapid(det_side=960),
    "det min 736": rapid(det_limit="min", det_side=736),
    "angle on every line": rapid(angle="all"),
    "rec batch 6": rapid(rec_batch=6),
    "rec width 320": rapid(rec_width=320),
    "lines >= 8 px": rapid(min_line_height=8),
    "no upscaling": rapid(min_side=0),
    "upscale to 160": rapid(min_side=160),
    "no word splitter": rapid(split_words=False),
    "no layout order": rapid(layout=False),
    "int8 det + rec": quantised(),
    "int8 rec MatMul only": quantised(quantise=("rec_model",), rec_ops=["MatMul"]),
    "tesseract": lambda: __import__("ml.ocr", fromlist=["ENGINES"]).ENGINES["tesseract"](),
    "tesseract-raw": lambda: __import__("ml.ocr", fromlist=["ENGINES"]).ENGINES["tesseract-raw"](),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=int, default=200, help="religious_hateful memes (200)")
    parser.add_argument("--n", type=int, default=48, help="rendered memes (default 48)")
    parser.add_argument("--memotion", type=int, default=0, help="Memotion memes (default 0)")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seed", type=int, default=SEED, help="another seed: other memes")
    parser.add_argument("--save", type=Path, help="also write the rendered memes here")
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    if args.real:
        real = real_samples(args.real, args.seed)
        total = sum(len(words(sample.text)) for sample in real)
        print(f"religious_hateful memes vs their transcription: {len(real)} images, {total} words")
        results = [evaluate(name, SETTINGS[name], real) for name in args.settings]
        print(table(results, [], order=True), flush=True)
        print(f"load average {os.getloadavg()[0]:.1f}\n")
    if not args.n:
        return
    photos = load_photos()
    rendered = [render(index, photos, args.seed) for index in range(args.n)]
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for index, sample in enumerate(rendered):
            sample.image.save(args.save / f"{index:03d}.png")
    groups = sorted({sample.group for sample in rendered}, key=lambda g: (len(g), g))
    total = sum(len(words(sample.text)) for sample in rendered)
    print(f"Seed {args.seed}. Rendered memes: {args.n} images, {total} words")
    print(table([evaluate(name, SETTINGS[name], rendered) for name in args.settings], groups))
    if args.memotion:
        memotion = memotion_samples(args.memotion, args.seed)
        print(f"\nMemotion 128x128 memes vs text_corrected: {args.memotion} images")
        print(table([evaluate(name, SETTINGS[name], memotion) for name in args.settings], []))
    print(f"\nload average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
