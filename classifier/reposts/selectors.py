"""Reads about repost clusters: near-duplicate lookup, a meme's reposts, label suggestions."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Max, Q

from classifier.models import LabelSet, Meme, MemeHash
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


@dataclass(frozen=True)
class Suggestion:
    """The label moderators gave the other memes of a repost cluster."""

    label_set: LabelSet
    label: str
    votes: int  # memes of the cluster whose standing human label is `label`
    labelled: int  # memes of the cluster with a standing human label


def _corrections():
    # Human labels belong to the moderation app, which depends on this one; reach its
    # model through the reverse relation instead of importing it.
    return Meme._meta.get_field("corrections").related_model


def meme_label_suggestions(*, meme: Meme) -> list[Suggestion]:
    """Per label set, the majority standing human label of the meme's reposts.

    Memes marked unusable do not vote; a tie goes to the most recent decision.
    """
    cluster_id = meme_cluster_id(meme=meme)
    if cluster_id is None:
        return []
    corrections = _corrections()
    latest_ids = (
        corrections.objects.filter(meme__image_hash__cluster_id=cluster_id)
        .exclude(meme=meme)
        .values("meme_id", "label_set_id")
        .annotate(latest=Max("id"))
        .values("latest")
    )
    rows = (
        corrections.objects.filter(id__in=latest_ids, unusable=False)
        .exclude(new_label="")
        .select_related("label_set")
        .order_by("id")
    )
    votes: dict[int, Counter] = {}
    last: dict[int, dict[str, int]] = {}
    label_sets: dict[int, LabelSet] = {}
    for row in rows:
        if row.new_label not in row.label_set.classes:
            continue
        label_sets[row.label_set_id] = row.label_set
        votes.setdefault(row.label_set_id, Counter())[row.new_label] += 1
        last.setdefault(row.label_set_id, {})[row.new_label] = row.id
    suggestions = []
    for label_set_id, counter in votes.items():
        label = max(counter, key=lambda lbl: (counter[lbl], last[label_set_id][lbl]))
        suggestions.append(
            Suggestion(label_sets[label_set_id], label, counter[label], sum(counter.values()))
        )
    return sorted(suggestions, key=lambda s: s.label_set.name)


def meme_label_suggestion(*, meme: Meme, label_set: LabelSet) -> Suggestion | None:
    for suggestion in meme_label_suggestions(meme=meme):
        if suggestion.label_set.pk == label_set.pk:
            return suggestion
    return None


def memes_unhashed():
    return Meme.objects.filter(image_hash__isnull=True).order_by("pk")
