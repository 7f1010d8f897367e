"""What moderation adds to classifier's memes (see the package docstring for why)."""

from collections.abc import Mapping, Sequence

from django.db.models import Q, QuerySet
from rest_framework import serializers

from classifier.api.serializers.filters import not_a_class
from classifier.extensions import MemeExtension
from classifier.models import user_sees_all_memes
from classifier.selectors import prefetched_empty
from moderation.api import selectors
from moderation.api.serializers import CurrentTextField, HumanLabelsField, SuggestedLabelsField
from moderation.models import LabelCorrection
from moderation.selectors.memes import memes_with_current_text
from moderation.selectors.reposts import meme_label_suggestions


class ModerationMemeExtension(MemeExtension):
    def fields(self) -> dict[str, serializers.Field]:
        return {
            "text": CurrentTextField(
                help_text="The text models read: the moderators' correction, else the OCR text."
            ),
            "human_labels": HumanLabelsField(
                help_text="The standing human decision of each label set that has one."
            ),
        }

    def detail_fields(self) -> dict[str, serializers.Field]:
        return {
            "suggested_labels": SuggestedLabelsField(
                help_text="Per label set, the human label moderators gave most of its reposts."
            )
        }

    def filter_fields(self) -> dict[str, serializers.Field]:
        return {
            "human_label": serializers.CharField(
                required=False,
                max_length=64,
                help_text="The standing human label, or `unusable`.",
            )
        }

    def validate_filters(self, attrs: dict, *, label_set) -> None:
        value = attrs.get("human_label")
        allowed = [*(label_set.classes if label_set is not None else []), selectors.HUMAN_UNUSABLE]
        if value is not None and value not in allowed:
            message = not_a_class(value, label_set=label_set, also=(selectors.HUMAN_UNUSABLE,))
            raise serializers.ValidationError({"human_label": message})

    def annotate(self, queryset: QuerySet, *, label_set) -> QuerySet:
        return selectors.memes_with_human_label(queryset, label_set=label_set)

    def in_label_set(self) -> Q:
        return Q(human_unusable__isnull=False)

    def narrow(self, queryset: QuerySet, *, filters: Mapping, label_set, user) -> QuerySet:
        human_label = filters.get("human_label")
        if not human_label or label_set is None:
            return queryset
        # A blind second reviewer must not learn the first decision by filtering on it.
        queryset = queryset.exclude(pk__in=selectors.blind_meme_ids(user=user, label_set=label_set))
        if human_label == selectors.HUMAN_UNUSABLE:
            return queryset.filter(human_unusable=True)
        return queryset.filter(human_label=human_label, human_unusable=False)

    def with_details(self, queryset: QuerySet) -> QuerySet:
        return memes_with_current_text(selectors.memes_with_corrections(queryset))

    def just_created(self, meme) -> dict:
        # What memes_with_corrections and memes_with_current_text give a meme no one has
        # decided about yet; no second review of it can be open.
        meme._prefetched_objects_cache["corrections"] = prefetched_empty(
            LabelCorrection.objects.all()
        )
        meme.current_text = meme.ocr_text or ""
        return {"blind": set()}

    def context(self, *, user, memes: Sequence) -> dict:
        return {"blind": selectors.blind_human_labels(user=user, memes=memes)}

    def detail_context(self, *, user, meme) -> dict:
        return {"suggestions": self._suggestions(user=user, meme=meme)}

    def page_context(self, *, user, meme) -> dict:
        # Drawn from other users' memes and moderators' decisions: a moderation aid.
        moderator = user_sees_all_memes(user)
        return {"suggestions": meme_label_suggestions(meme=meme) if moderator else []}

    def _suggestions(self, *, user, meme) -> list:
        # A moderation aid (other users' memes, moderators' decisions), hidden where this
        # moderator owes a blind second opinion.
        if not user_sees_all_memes(user):
            return []
        blind = selectors.blind_human_labels(user=user, memes=[meme])
        return [
            s for s in meme_label_suggestions(meme=meme) if (meme.pk, s.label_set.pk) not in blind
        ]
