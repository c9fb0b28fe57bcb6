import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Membership
from accounts.selectors import post_get
from accounts.services import membership_grant, staff_create
from core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create a staff member with a role at a post."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--post", required=True, help="Post code, e.g. bamako.")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument("--password", help="Generated and printed once when omitted.")

    def handle(self, *args: Any, **options: Any) -> None:
        post = post_get(code=options["post"])
        if post is None:
            raise CommandError(f"No post with code {options['post']!r}.")
        password = options["password"] or secrets.token_urlsafe(18)
        try:
            with transaction.atomic():
                user = staff_create(
                    username=options["username"], email=options["email"], password=password
                )
                membership_grant(user=user, post=post, role=options["role"])
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username} ({options['role']} at {post.code}).")
        )
        if not options["password"]:
            self.stdout.write(f"Password (shown once): {password}")
