"""Whether a label set has enough human labels to retrain, and if not, what is missing.

One check, asked by every door that starts a retrain (the command, the dashboard's enqueue
service, the task itself), so they all refuse with the same sentence.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count

from classifier.models import LabelSet
from moderation.selectors.memes import human_labels


def label_counts(*, label_set: LabelSet) -> dict[str, int]:
    """{class: memes whose standing human label is that class}, every class present."""
    rows = (
        human_labels(label_set=label_set)
        .filter(new_label__in=label_set.classes)
        .values("new_label")
        .annotate(n=Count("id"))
        .values_list("new_label", "n")
    )
    counts = dict.fromkeys(label_set.classes, 0)
    counts.update(dict(rows))
    return counts


def retrain_blocker(*, label_set: LabelSet) -> str | None:
    """Say why `label_set` cannot be retrained yet, or None when it can.

    Below RETRAIN_MIN_LABELS_PER_CLASS labels of a class, cross-validation folds and the
    gate would hold a handful of memes of it: any figure from them is noise, and a model
    promoted on them is a coin toss (issue 11: a 15-label retrain replaced the shipped model).
    """
    minimum = settings.RETRAIN_MIN_LABELS_PER_CLASS
    counts = label_counts(label_set=label_set)
    short = [(name, n) for name, n in counts.items() if n < minimum]
    if not short:
        return None
    missing = _join(
        [
            f"{minimum - n} more “{name}” label{'s' if minimum - n != 1 else ''} (has {n})"
            for name, n in short
        ]
    )
    return (
        f"Cannot retrain {label_set.name} yet: it needs at least {minimum} human labels "
        f"of each class, so {missing}."
    )


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
