"""Label suggestions from repost clusters: what moderators decided on a meme's reposts."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Max

from classifier.models import LabelSet, Meme
from classifier.reposts.selectors import meme_cluster_id
from moderation.models import LabelCorrection


@dataclass(frozen=True)
class Suggestion:
    """The label moderators gave the other memes of a repost cluster."""

    label_set: LabelSet
    label: str
    votes: int  # memes of the cluster whose standing human label is `label`
    labelled: int  # memes of the cluster with a standing human label


def meme_label_suggestions(*, meme: Meme) -> list[Suggestion]:
    """Per label set, the majority standing human label of the meme's reposts.

    Memes marked unusable do not vote; a tie goes to the most recent decision.
    """
    cluster_id = meme_cluster_id(meme=meme)
    if cluster_id is None:
        return []
    latest_ids = (
        LabelCorrection.objects.filter(meme__image_hash__cluster_id=cluster_id)
        .exclude(meme=meme)
        .values("meme_id", "label_set_id")
        .annotate(latest=Max("id"))
        .values("latest")
    )
    rows = (
        LabelCorrection.objects.filter(id__in=latest_ids, unusable=False)
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
