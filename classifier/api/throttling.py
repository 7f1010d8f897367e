"""Per-user request rates by scope: uploads, classify, and api for everything else."""

import math
from types import SimpleNamespace

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ScopedThrottle(SimpleRateThrottle):
    """Throttle by the view's `throttle_scope` ("api" when it has none).

    DRF's ScopedRateThrottle copies the rates once, at import; this reads them on every
    request, so settings overrides (tests, REST_FRAMEWORK reloads) take effect.
    """

    default_scope = "api"

    def __init__(self):
        # The scope is only known once the view is; see allow_request.
        pass

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or self.default_scope
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def throttle_wait(request, *, scope: str) -> int | None:
    """For a plain Django view: None if `request` is within `scope`'s rate, else the
    seconds to wait. The counter is the API's own (same cache key), so the web form and
    the API share one budget per user."""
    throttle = ScopedThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope=scope)):
        return None
    return max(1, math.ceil(throttle.wait() or 1))
