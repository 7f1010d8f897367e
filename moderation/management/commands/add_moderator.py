from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from moderation.services import moderator_add, password_setup_link


class Command(BaseCommand):
    help = (
        "Create a moderator, or make an existing user one; a new account gets a link to "
        "set its password."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="The new moderator's e-mail address.")
        parser.add_argument(
            "--password-link",
            action="store_true",
            help="Print a set-password link for an existing user too (e.g. a forgotten one).",
        )

    def handle(self, *args, **opts):
        try:
            added = moderator_add(username=opts["username"], email=opts["email"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        user = added.user
        if added.created:
            self.stdout.write(f"Created moderator {user.username} (in the moderators group).")
        elif added.promoted:
            self.stdout.write(
                f"{user.username} is now a moderator (added to the moderators group; "
                "password unchanged)."
            )
        else:
            self.stdout.write(f"{user.username} is a moderator already; nothing changed.")
        if added.created or opts["password_link"]:
            self.stdout.write(
                "Send them this link to choose a password (it works once, and for "
                f"a limited time):\n{password_setup_link(user=user)}"
            )
