"""Reads about repost clusters: near-duplicate lookup, a meme's reposts and cluster."""

from dataclasses import dataclass

from django.db.models import Q

from classifier.models import Meme, MemeHash
from ml import near_duplicates as nd


@dataclass(frozen=True, order=True)
class Match:
    distance: int  # pHash + dHash bits
    meme_id: int
    cluster_id: int


def stored_hashes(row: MemeHash) -> nd.ImageHashes:
    return nd.ImageHashes(phash=nd.to_unsigned(row.phash), dhash=nd.to_unsigned(row.dhash))


def near_duplicates_of(
    *, hashes: nd.ImageHashes, exclude_meme_id: int | None = None
) -> list[Match]:
    """Every hashed meme near-identical to `hashes`, nearest first.

    Four indexed IN lookups on the pHash bands find the candidates (a few per thousand
    stored hashes); only those are compared bit by bit.
    """
    keys = nd.probe_keys(hashes.phash)
    query = Q()
    for band, values in enumerate(keys):
        query |= Q(**{f"phash_band{band}__in": values})
    rows = MemeHash.objects.filter(query).values_list("meme_id", "phash", "dhash", "cluster_id")
    matches = []
    for meme_id, phash, dhash, cluster_id in rows:
        if meme_id == exclude_meme_id:
            continue
        other = nd.ImageHashes(phash=nd.to_unsigned(phash), dhash=nd.to_unsigned(dhash))
        if nd.is_near_duplicate(hashes, other):
            matches.append(Match(nd.distance(hashes, other), meme_id, cluster_id))
    return sorted(matches)


def meme_cluster_id(*, meme: Meme) -> int | None:
    return MemeHash.objects.filter(meme=meme).values_list("cluster_id", flat=True).first()


def memes_cluster_ids(*, meme_ids: list[int]) -> dict[int, int]:
    """{meme id: cluster id} for the hashed memes among `meme_ids`."""
    return dict(MemeHash.objects.filter(meme_id__in=meme_ids).values_list("meme_id", "cluster_id"))


@dataclass(frozen=True)
class Reposts:
    cluster_id: int | None
    count: int  # other memes in the cluster
    memes: list[Meme]  # the first few of them, oldest first


def meme_reposts(*, meme: Meme, limit: int = 12, user=None, session_meme_ids=()) -> Reposts:
    """The other memes of `meme`'s repost cluster; with `user`, only those they may see."""
    cluster_id = meme_cluster_id(meme=meme)
    if cluster_id is None:
        return Reposts(None, 0, [])
    memes = Meme.objects.all()
    if user is not None:
        memes = memes.visible_to(user, session_meme_ids=session_meme_ids)
    others = memes.filter(image_hash__cluster_id=cluster_id).exclude(pk=meme.pk)
    return Reposts(cluster_id, others.count(), list(others.order_by("created_at", "pk")[:limit]))


def cluster_meme_ids(*, meme: Meme) -> list[int]:
    """Every meme of `meme`'s cluster, `meme` included (just `meme` when it is not hashed)."""
    cluster_id = meme_cluster_id(meme=meme)
    if cluster_id is None:
        return [meme.pk]
    return list(
        MemeHash.objects.filter(cluster_id=cluster_id)
        .order_by("meme_id")
        .values_list("meme_id", flat=True)
    )


def memes_unhashed():
    return Meme.objects.filter(image_hash__isnull=True).order_by("pk")
