"""Writes for repost clusters: hash a meme and put it in the cluster of its nearest repost."""

import logging

from django.db import transaction

from classifier.models import Meme, MemeHash, RepostCluster
from classifier.reposts import selectors
from ml import near_duplicates as nd

logger = logging.getLogger(__name__)


def image_hashes_or_none(data: bytes) -> nd.ImageHashes | None:
    """Hash an image's bytes; None (logged) if that fails, so an upload never does."""
    from classifier import ml_bridge

    try:
        return nd.image_hashes(ml_bridge.open_image(data))
    except Exception:
        logger.exception("perceptual hashing failed; backfill_clusters will retry")
        return None


@transaction.atomic
def meme_cluster_assign(*, meme: Meme, hashes: nd.ImageHashes) -> MemeHash:
    """Store the meme's hashes and join the cluster of its nearest near-duplicate.

    With no near-duplicate the meme starts a cluster of its own. A meme already hashed
    keeps its cluster (idempotent). Two near-duplicates uploaded at the very same moment
    can each start a cluster; `backfill_clusters --recluster` regroups everything.
    """
    existing = MemeHash.objects.filter(meme=meme).first()
    if existing is not None:
        return existing
    matches = selectors.near_duplicates_of(hashes=hashes, exclude_meme_id=meme.pk)
    nearest = matches[0] if matches else None
    cluster = nearest.cluster_id if nearest is not None else RepostCluster.objects.create().pk
    band0, band1, band2, band3 = nd.bands(hashes.phash)
    return MemeHash.objects.create(
        meme=meme,
        phash=nd.to_signed(hashes.phash),
        dhash=nd.to_signed(hashes.dhash),
        phash_band0=band0,
        phash_band1=band1,
        phash_band2=band2,
        phash_band3=band3,
        cluster_id=cluster,
        matched_id=nearest.meme_id if nearest else None,
        distance=nearest.distance if nearest else None,
    )


def meme_hash(*, meme: Meme) -> MemeHash | None:
    """Hash a stored meme's file and cluster it (the backfill path); None if unreadable."""
    try:
        with meme.image.open("rb") as fh:
            data = fh.read()
    except OSError:
        logger.exception("meme %s: cannot read its file", meme.pk)
        return None
    hashes = image_hashes_or_none(data)
    if hashes is None:
        return None
    return meme_cluster_assign(meme=meme, hashes=hashes)


@transaction.atomic
def clusters_rebuild() -> int:
    """Forget every cluster and regroup all hashed memes, oldest first; return how many."""
    rows = list(MemeHash.objects.select_related("meme").order_by("meme__created_at", "meme_id"))
    MemeHash.objects.all().delete()
    RepostCluster.objects.all().delete()
    for row in rows:
        meme_cluster_assign(meme=row.meme, hashes=selectors.stored_hashes(row))
    return len(rows)
