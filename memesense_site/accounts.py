"""The account pages: Django's own views, password reset only with mail, and throttled."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework.throttling import BaseThrottle

from classifier.api.throttling import throttle_wait


def client_address(request) -> str | None:
    """The client's address for the login lockout (AXES_CLIENT_IP_CALLABLE).

    DRF's rule for its throttles (BaseThrottle.get_ident), so both agree on who a client
    is: REMOTE_ADDR, or with NUM_PROXIES = N > 0 the N-th address from the right of
    X-Forwarded-For, the one the outermost trusted proxy saw. Axes alone would read
    REMOTE_ADDR, which behind a proxy is the proxy's for every client.
    """
    if request is None:
        return None
    return BaseThrottle().get_ident(request)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset form; a client past PASSWORD_RESET_THROTTLE gets a 429, no mail.

    The counter is per client address (anonymous) in the default cache, so a script
    cannot flood an inbox or the mail server.
    """

    def post(self, request, *args, **kwargs):
        wait = throttle_wait(request, scope="password_reset")
        if wait is not None:
            response = HttpResponse(
                f"Too many password-reset requests; please try again in {wait} seconds.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)


def account_urls() -> list:
    """django.contrib.auth.urls, with the reset request pages only when mail is configured."""
    urls = [
        path("login/", auth_views.LoginView.as_view(), name="login"),
        path("logout/", auth_views.LogoutView.as_view(), name="logout"),
        path(
            "password_change/",
            sensitive_post_parameters()(auth_views.PasswordChangeView.as_view()),
            name="password_change",
        ),
        path(
            "password_change/done/",
            auth_views.PasswordChangeDoneView.as_view(),
            name="password_change_done",
        ),
    ]
    # The set-password link (`manage.py add_moderator`) sends no mail: it is always there.
    urls += [
        path(
            "reset/<uidb64>/<token>/",
            auth_views.PasswordResetConfirmView.as_view(),
            name="password_reset_confirm",
        ),
        path(
            "reset/done/",
            auth_views.PasswordResetCompleteView.as_view(),
            name="password_reset_complete",
        ),
    ]
    if not settings.PASSWORD_RESET_ENABLED:
        return urls
    # Asking for a reset sends mail: only when mail is configured, and throttled.
    return urls + [
        path("password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
        path(
            "password_reset/done/",
            auth_views.PasswordResetDoneView.as_view(),
            name="password_reset_done",
        ),
    ]
