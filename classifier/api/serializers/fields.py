"""Fields and base classes the API's input serializers share (moderation's too)."""

import math

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would turn 12 into "12"."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProbabilityField(serializers.FloatField):
    """A float in [0, 1]; NaN, which every comparison lets through, is refused."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0.0, max_value=1.0, **kwargs)

    def to_internal_value(self, data) -> float:
        value = super().to_internal_value(data)
        if math.isnan(value):
            self.fail("invalid")
        return value


class QuerySerializer(serializers.Serializer):
    """Query parameters: an empty value is an error, not "left out" as in an HTML form."""

    def to_internal_value(self, data):
        blank = [name for name in self.fields if data.get(name) == ""]
        if blank:
            raise serializers.ValidationError(
                {name: ["This parameter may not be empty."] for name in blank}
            )
        return super().to_internal_value(data)


def request_user(context: dict):
    """The user a serializer renders for (None in webhook payloads, which have no request)."""
    request = context.get("request")
    return getattr(request, "user", None)
