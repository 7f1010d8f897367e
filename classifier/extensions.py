"""The seam through which apps built on classifier add their data to memes, API and page.

A meme in the API carries what moderators decided about it (human labels, the corrected
text, repost label suggestions) and the meme list filters on those decisions. That data is
moderation's, and moderation depends on classifier, never the other way. So classifier
serves the meme endpoints and owns their shape, and moderation registers a MemeExtension
from its AppConfig.ready (moderation/api/extension.py) that supplies its fields, its
filter and the prefetching they need. The meme serializers, the list's filter serializer,
the API selectors and the meme page ask `meme_extensions()`; classifier never imports
moderation (classifier/tests/test_one_way.py holds it to that).

Without an extension registered (classifier alone), memes simply lack those fields.
"""

from collections.abc import Mapping, Sequence

from django.db.models import Q, QuerySet
from rest_framework import serializers


class MemeExtension:
    """What an app adds to the API's memes; every method defaults to adding nothing.

    Fields never query: `with_details` prefetches what they read, `context` and
    `detail_context` compute once per response what they need beyond the rows.
    """

    def fields(self) -> dict[str, serializers.Field]:
        """Read-only fields of every meme in a response (list, upload, retry, detail)."""
        return {}

    def detail_fields(self) -> dict[str, serializers.Field]:
        """Read-only fields of a single meme (GET /memes/{id}/, webhook payloads)."""
        return {}

    def filter_fields(self) -> dict[str, serializers.Field]:
        """Query parameters of GET /memes/."""
        return {}

    def validate_filters(self, attrs: dict, *, label_set) -> None:
        """Raise serializers.ValidationError for query values `label_set` cannot have."""

    def annotate(self, queryset: QuerySet, *, label_set) -> QuerySet:
        """Annotate the meme list with what `in_label_set` and `narrow` filter on."""
        return queryset

    def in_label_set(self) -> Q:
        """Memes that belong in a list narrowed to a label set, beyond those predicted."""
        return Q(pk__in=[])

    def narrow(self, queryset: QuerySet, *, filters: Mapping, label_set, user) -> QuerySet:
        """Apply this extension's query parameters (`filters`) to the meme list."""
        return queryset

    def with_details(self, queryset: QuerySet) -> QuerySet:
        """Prefetch what `fields` and `detail_fields` read."""
        return queryset

    def just_created(self, meme) -> dict:
        """Set on a meme created a moment ago what `with_details` would fetch for it, and
        return the serializer context `context` would compute for it.

        Nothing can refer to a row the same request has just written, so both are known
        without a query (an upload answers with its meme without reading it back).
        """
        return {}

    def context(self, *, user, memes: Sequence) -> dict:
        """Serializer context for a response listing `memes`, as seen by `user`."""
        return {}

    def detail_context(self, *, user, meme) -> dict:
        """Serializer context for the detail of `meme`, as seen by `user` (None: a webhook)."""
        return {}

    def page_context(self, *, user, meme) -> dict:
        """Template context the meme's web page adds for `user`."""
        return {}


_registry: list[MemeExtension] = []


def meme_extension_register(extension: MemeExtension) -> None:
    """Add `extension` once (AppConfig.ready may run more than once in tests)."""
    if not any(type(e) is type(extension) for e in _registry):
        _registry.append(extension)


def meme_extensions() -> tuple[MemeExtension, ...]:
    return tuple(_registry)
