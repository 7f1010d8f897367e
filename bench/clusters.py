"""Repost clusters: how the thresholds were chosen, and what a near-duplicate lookup costs.

    .venv/bin/python -m bench.clusters [--thresholds] [--lookup] [--sizes 10000 100000]

--thresholds (measured on real images): pHash/dHash Hamming distances between a picture and
its re-encoded, resized, cropped and recaptioned copies (600 Memotion memes and scikit-learn's
two photographs), the share of those copies each threshold pair accepts, and how many of the
17.9M pairs of distinct Memotion memes it matches.

--lookup: a temporary SQLite database holding N MemeHash rows, looked up the way an upload
does (indexed pHash bands, classifier.reposts.selectors.near_duplicates_of) against a linear
scan that reads every stored hash; plus the same two searches in memory. The N hashes are the
5,992 real Memotion hashes, then copies of them with 4-20 random bits flipped in each hash
(reposts and template variants are what a growing table adds), so the bands are as unevenly
filled as real data makes them.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
MEMOTION = ROOT.parent / "shared" / "data" / "memotion_7k" / "images"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CAPTIONS = [("ME ON MONDAY", "SEND HELP"), ("ONE DOES NOT SIMPLY", "DEPLOY ON FRIDAY")]


def memotion_files() -> list[Path]:
    files = sorted(p for p in MEMOTION.iterdir() if p.is_file())
    if not files:
        sys.exit(f"no images in {MEMOTION}")
    return files


# --- Thresholds ---------------------------------------------------------------------------


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue()))


def _crop(image: Image.Image, fraction: float) -> Image.Image:
    dx, dy = int(image.width * fraction), int(image.height * fraction)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def _caption(image: Image.Image, top: str, bottom: str) -> Image.Image:
    image = image.convert("RGB").copy()
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, max(10, image.height // 10))
    stroke = max(1, image.height // 120)
    for text, y, anchor in (
        (top, image.height // 20, "ma"),
        (bottom, image.height * 19 // 20, "md"),
    ):
        draw.text((image.width // 2, y), text, font=font, anchor=anchor, fill="white",
                  stroke_width=stroke, stroke_fill="black")  # fmt: skip
    return image


def _half(image: Image.Image) -> Image.Image:
    return image.resize((max(8, image.width // 2), max(8, image.height // 2)))


TRANSFORMS = {
    "jpeg q20": lambda im: _jpeg(im, 20),
    "half size": _half,
    "double size": lambda im: im.resize((im.width * 2, im.height * 2)),
    "half + jpeg q50": lambda im: _jpeg(_half(im), 50),
    "crop 2%/side": lambda im: _crop(im, 0.02),
    "crop 3% + 70% + q70": lambda im: _jpeg(
        _crop(im, 0.03).resize((int(im.width * 0.7), int(im.height * 0.7))), 70
    ),
    "crop 5% bottom": lambda im: im.crop((0, 0, im.width, im.height - im.height // 20)),
    "crop 5%/side": lambda im: _crop(im, 0.05),
}
RULES = [(p, d) for p in (8, 10, 12) for d in (10, 14, 18, 64)]


def thresholds(n_images: int) -> None:
    from sklearn.datasets import load_sample_images

    from ml.near_duplicates import hamming, image_hashes

    files = memotion_files()
    random.seed(2)
    bases = [Image.open(f).convert("RGB") for f in random.sample(files, n_images)]
    bases += [Image.fromarray(a) for a in load_sample_images().images]
    distances: dict[str, list[tuple[int, int]]] = {k: [] for k in [*TRANSFORMS, "recaption"]}
    for base in bases:
        h0 = image_hashes(base)
        for name, transform in TRANSFORMS.items():
            h1 = image_hashes(transform(base))
            distances[name].append((hamming(h0.phash, h1.phash), hamming(h0.dhash, h1.dhash)))
        a, b = (image_hashes(_caption(base, *c)) for c in CAPTIONS)
        distances["recaption"].append((hamming(a.phash, b.phash), hamming(a.dhash, b.dhash)))

    print(f"Copies of {len(bases)} real images ({n_images} Memotion 128x128, 2 photos 640x427)")
    print(f"{'copy':22s} {'pHash p50/p95/max':>18s} {'dHash p50/p95/max':>18s}")
    for name, pairs in distances.items():
        p, d = np.array(pairs).T
        print(
            f"{name:22s} {np.median(p):6.0f}{np.percentile(p, 95):6.0f}{p.max():6d}"
            f" {np.median(d):6.0f}{np.percentile(d, 95):6.0f}{d.max():6d}"
        )

    print(f"\nAll pairs of the {len(files)} Memotion memes (distinct uploads):")
    hashes = [image_hashes(Image.open(f).convert("RGB")) for f in files]
    ph = np.array([h.phash for h in hashes], dtype=np.uint64)
    dh = np.array([h.dhash for h in hashes], dtype=np.uint64)
    matched = dict.fromkeys(RULES, 0)
    for i in range(len(ph) - 1):
        dp = np.bitwise_count(ph[i] ^ ph[i + 1 :])
        dd = np.bitwise_count(dh[i] ^ dh[i + 1 :])
        for p, d in RULES:
            matched[(p, d)] += int(((dp <= p) & (dd <= d)).sum())
    n_pairs = len(ph) * (len(ph) - 1) // 2
    header = " ".join(f"{k[:10]:>10s}" for k in distances)
    print(f"\n{'rule':14s} {header}  distinct pairs matched (of {n_pairs:,})")
    for p, d in RULES:
        recall = [np.mean([(a <= p and b <= d) for a, b in v]) for v in distances.values()]
        row = " ".join(f"{r:10.3f}" for r in recall)
        print(f"pH<={p:2d} dH<={d:2d}  {row}  {matched[(p, d)]}")


# --- Lookup -------------------------------------------------------------------------------


def _setup_django(tmp: Path) -> None:
    os.environ.update(
        DEBUG="1",
        SECRET_KEY="bench-only",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp / "media"),
        DJANGO_SETTINGS_MODULE="memesense_site.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _flip(value: int, rng: random.Random, bits: int) -> int:
    for position in rng.sample(range(64), bits):
        value ^= 1 << position
    return value


def hash_population(size: int, real: list, rng: random.Random) -> list:
    from ml.near_duplicates import ImageHashes

    out = list(real[:size])
    while len(out) < size:
        base = rng.choice(real)
        out.append(
            ImageHashes(
                _flip(base.phash, rng, rng.randint(4, 20)),
                _flip(base.dhash, rng, rng.randint(4, 20)),
            )
        )
    return out


def _fill(population: list) -> None:
    from django.db import transaction

    from classifier.models import Meme, MemeHash, RepostCluster
    from ml import near_duplicates as nd

    have = Meme.objects.count()
    new = population[have:]
    with transaction.atomic():
        memes = Meme.objects.bulk_create(
            [
                Meme(
                    sha256=f"{have + i:064x}",
                    image="x",
                    content_type="image/png",
                    size_bytes=1,
                    width=1,
                    height=1,
                )  # fmt: skip
                for i in range(len(new))
            ],
            batch_size=2000,
        )
        clusters = RepostCluster.objects.bulk_create(
            [RepostCluster() for _ in new], batch_size=2000
        )
        rows = []
        for meme, cluster, h in zip(memes, clusters, new, strict=True):
            b = nd.bands(h.phash)
            rows.append(
                MemeHash(
                    meme=meme,
                    cluster=cluster,
                    phash=nd.to_signed(h.phash),
                    dhash=nd.to_signed(h.dhash),
                    phash_band0=b[0],
                    phash_band1=b[1],
                    phash_band2=b[2],
                    phash_band3=b[3],
                )  # fmt: skip
            )
        MemeHash.objects.bulk_create(rows, batch_size=2000)


def _linear_db(query) -> list[int]:
    """What an upload would do without the index: read every hash, compare each."""
    from classifier.models import MemeHash
    from ml import near_duplicates as nd

    found = []
    for meme_id, p, d in MemeHash.objects.values_list("meme_id", "phash", "dhash").iterator(
        chunk_size=5000
    ):
        other = nd.ImageHashes(nd.to_unsigned(p), nd.to_unsigned(d))
        if nd.is_near_duplicate(query, other):
            found.append(meme_id)
    return sorted(found)


def _time(fn, queries, repeat: int = 1) -> tuple[list[float], list]:
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        for _ in range(repeat):
            result = fn(q)
        times.append((time.perf_counter() - start) / repeat * 1000)
        results.append(result)
    return times, results


def _fmt(times: list[float]) -> str:
    return f"{statistics.mean(times):8.3f} {np.percentile(times, 95):8.3f}"


def lookup(sizes: list[int], n_queries: int) -> None:
    from classifier.reposts.selectors import near_duplicates_of
    from ml import near_duplicates as nd

    rng = random.Random(0)
    real = [nd.image_hashes(Image.open(f).convert("RGB")) for f in memotion_files()]
    population = hash_population(max(sizes), real, rng)
    # Half the queries are reposts of stored pictures (a few bits off), half are new.
    queries = [
        nd.ImageHashes(_flip(h.phash, rng, 2), _flip(h.dhash, rng, 3))
        for h in rng.sample(real, n_queries // 2)
    ] + [
        nd.ImageHashes(rng.getrandbits(64), rng.getrandbits(64))
        for _ in range(n_queries - n_queries // 2)
    ]
    photo = Image.open(memotion_files()[0]).convert("RGB").resize((640, 480))
    hash_ms, _ = _time(nd.image_hashes, [photo] * 20)
    print(f"hashing one 640x480 upload (pHash + dHash): {statistics.mean(hash_ms):.2f} ms\n")

    print(f"{len(queries)} lookups per size; mean and p95 in ms")
    print(
        f"{'hashes':>8s} {'where':7s} {'search':22s} {'mean':>8s} {'p95':>8s} {'candidates':>10s}"
    )
    for size in sorted(sizes):
        _fill(population[:size])
        index_ms, index_found = _time(
            lambda q: sorted(m.meme_id for m in near_duplicates_of(hashes=q)), queries
        )
        scan_ms, scan_found = _time(_linear_db, queries[:20])
        assert index_found[:20] == scan_found, "the band index missed a near-duplicate"

        memory = nd.MultiIndex()
        for h in population[:size]:
            memory.add(h)
        mem_ms, mem_found = _time(
            lambda q, memory=memory: sorted(i for _, i in memory.near(q)), queries, 5
        )
        candidates = statistics.mean(len(memory.candidates(q.phash)) for q in queries)
        stored = population[:size]
        py_ms, py_found = _time(
            lambda q, stored=stored: [
                i for i, h in enumerate(stored) if nd.is_near_duplicate(q, h)
            ],
            queries[:20],
        )
        assert mem_found[:20] == py_found, "the in-memory index missed a near-duplicate"
        ph = np.array([h.phash for h in stored], dtype=np.uint64)
        dh = np.array([h.dhash for h in stored], dtype=np.uint64)

        def numpy_scan(q, ph=ph, dh=dh):
            dp = np.bitwise_count(ph ^ np.uint64(q.phash))
            dd = np.bitwise_count(dh ^ np.uint64(q.dhash))
            return np.nonzero((dp <= nd.PHASH_MAX_DISTANCE) & (dd <= nd.DHASH_MAX_DISTANCE))[0]

        np_ms, _ = _time(numpy_scan, queries, 5)
        hits = sum(bool(f) for f in index_found)
        print(
            f"{size:8d} {'SQLite':7s} {'pHash bands (app)':22s} {_fmt(index_ms)} {candidates:10.0f}"
        )
        print(f"{size:8d} {'SQLite':7s} {'linear scan':22s} {_fmt(scan_ms)} {size:10d}")
        print(f"{size:8d} {'memory':7s} {'pHash bands':22s} {_fmt(mem_ms)} {candidates:10.0f}")
        print(f"{size:8d} {'memory':7s} {'linear scan, Python':22s} {_fmt(py_ms)} {size:10d}")
        print(f"{size:8d} {'memory':7s} {'linear scan, numpy':22s} {_fmt(np_ms)} {size:10d}")
        print(
            f"{size:8d} speed-up of the bands over the linear scan: SQLite "
            f"{statistics.mean(scan_ms) / statistics.mean(index_ms):.0f}x, Python "
            f"{statistics.mean(py_ms) / statistics.mean(mem_ms):.0f}x; "
            f"{hits}/{len(queries)} lookups found a near-duplicate"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--thresholds", action="store_true", help="only the threshold study")
    parser.add_argument("--lookup", action="store_true", help="only the lookup benchmark")
    parser.add_argument("--images", type=int, default=600, help="Memotion images to transform")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    both = not (args.thresholds or args.lookup)
    if args.thresholds or both:
        thresholds(args.images)
        print()
    if args.lookup or both:
        with tempfile.TemporaryDirectory() as tmp:
            _setup_django(Path(tmp))
            lookup(args.sizes, args.queries)


if __name__ == "__main__":
    main()
