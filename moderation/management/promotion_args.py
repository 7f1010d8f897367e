"""What `promote` and `rollback` share: --as, --yes and the confirmation prompt."""

from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from moderation.learning.promotion import PromotionError, PromotionNeedsConfirmation


def add_promotion_arguments(parser) -> None:
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USERNAME",
        help="check this user's promote permission (without it: you, the operator at the shell)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="promote a version the promotion gate did not approve without asking",
    )


def acting_user(username: str | None):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"unknown user {username!r}")
    return user


def run_with_confirmation(command, promote, *, yes: bool):
    """Call promote(confirmed=...) and, when the gate did not approve, confirm first.

    Asked on a terminal; without one (a script, cron) --yes is required, so nothing is
    promoted over the gate by a command nobody read.
    """
    try:
        return promote(confirmed=yes)
    except PromotionNeedsConfirmation as exc:
        command.stderr.write(f"Warning: {exc.warning}")
        if not sys.stdin.isatty():
            raise CommandError(f"{exc.warning} Add --yes to promote it anyway.") from None
        answer = input(f"Make {exc.model_version.version} active anyway? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CommandError("not promoted") from None
        return promote(confirmed=True)
    except PromotionError as exc:
        raise CommandError(str(exc)) from exc
