"""Perceptual hashes that find reposts: the same picture re-encoded, resized, cropped a little,
or recaptioned on the same template.

Two 64-bit hashes per image (imagehash): pHash (DCT of a 32x32 grey thumbnail) and dHash
(horizontal gradients of a 9x8 thumbnail). Two images are near-duplicates when both hashes
are within a Hamming distance: pHash <= PHASH_MAX_DISTANCE and dHash <= DHASH_MAX_DISTANCE.
The thresholds were measured (bench/clusters.py --thresholds, figures in docs/benchmarks.md):
on 600 Memotion images plus sklearn's sample photos, re-encoding and resizing stay at 0-6 bits,
a 2% crop on every side and recaptioning the same background mostly within 10/14, while
of the 17.9M pairs of distinct Memotion memes only 403 (0.002%) match, nearly all of them
the same meme template.

Lookup never scans every stored hash. The pHash is cut into BANDS 16-bit bands; if two
hashes differ in at most PHASH_MAX_DISTANCE bits, at least one band differs in at most
PHASH_MAX_DISTANCE // BANDS bits (pigeonhole), so the candidates are the rows whose band i
is one of the few values within that radius of the query's band i (multi-index hashing,
Norouzi et al. 2012). Those values are exact-match lookups in an ordinary index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations

PHASH_MAX_DISTANCE = 10
DHASH_MAX_DISTANCE = 14
BANDS = 4
BAND_BITS = 64 // BANDS
BAND_RADIUS = PHASH_MAX_DISTANCE // BANDS
_MASK = (1 << BAND_BITS) - 1


@dataclass(frozen=True)
class ImageHashes:
    """The two perceptual hashes of one picture, as unsigned 64-bit integers."""

    phash: int
    dhash: int


def image_hashes(image) -> ImageHashes:
    """Return the pHash and dHash of a PIL image (any mode; alpha should be flattened)."""
    import imagehash

    grey = image.convert("L")
    return ImageHashes(phash=_as_int(imagehash.phash(grey)), dhash=_as_int(imagehash.dhash(grey)))


def _as_int(h) -> int:
    value = 0
    for bit in h.hash.flatten():
        value = (value << 1) | int(bit)
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def is_near_duplicate(a: ImageHashes, b: ImageHashes) -> bool:
    return (
        hamming(a.phash, b.phash) <= PHASH_MAX_DISTANCE
        and hamming(a.dhash, b.dhash) <= DHASH_MAX_DISTANCE
    )


def distance(a: ImageHashes, b: ImageHashes) -> int:
    """How far apart two pictures are: the sum of both Hamming distances (0-128)."""
    return hamming(a.phash, b.phash) + hamming(a.dhash, b.dhash)


def bands(value: int) -> tuple[int, ...]:
    """The BANDS 16-bit pieces of a 64-bit hash, lowest bits first."""
    return tuple((value >> (BAND_BITS * i)) & _MASK for i in range(BANDS))


@cache
def _flip_masks(bits: int, radius: int) -> tuple[int, ...]:
    masks = []
    for r in range(radius + 1):
        for positions in combinations(range(bits), r):
            mask = 0
            for p in positions:
                mask |= 1 << p
            masks.append(mask)
    return tuple(masks)


def band_neighbours(band: int, radius: int = BAND_RADIUS) -> list[int]:
    """Every BAND_BITS-bit value within `radius` bits of `band` (137 for radius 2)."""
    return [band ^ mask for mask in _flip_masks(BAND_BITS, radius)]


def probe_keys(value: int) -> list[list[int]]:
    """Per band, the values a stored hash's band must take to possibly be a near-duplicate."""
    return [band_neighbours(b) for b in bands(value)]


def to_signed(value: int) -> int:
    """Store an unsigned 64-bit hash in a signed BIGINT column."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


class MultiIndex:
    """An in-memory multi-index over pHashes, the same search as the database one.

    Kept for the benchmark and for batch work (a backfill) that holds every hash in memory.
    """

    def __init__(self):
        self.tables_: list[dict[int, list[int]]] = [{} for _ in range(BANDS)]
        self.hashes_: list[ImageHashes] = []

    def add(self, hashes: ImageHashes) -> int:
        """Add a picture's hashes; return its position."""
        position = len(self.hashes_)
        self.hashes_.append(hashes)
        for table, band in zip(self.tables_, bands(hashes.phash), strict=True):
            table.setdefault(band, []).append(position)
        return position

    def candidates(self, phash: int) -> set[int]:
        found: set[int] = set()
        for table, keys in zip(self.tables_, probe_keys(phash), strict=True):
            for key in keys:
                found.update(table.get(key, ()))
        return found

    def near(self, hashes: ImageHashes) -> list[tuple[int, int]]:
        """(distance, position) of every stored near-duplicate, nearest first."""
        return sorted(
            (distance(hashes, self.hashes_[i]), i)
            for i in self.candidates(hashes.phash)
            if is_near_duplicate(hashes, self.hashes_[i])
        )
