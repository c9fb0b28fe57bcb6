from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.demo import seeders


class Command(BaseCommand):
    help = "Create demo posts, staff and data (idempotent). Refused in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow in production.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            raise CommandError("seed_demo creates known logins; refused in production.")
        for seeder in seeders():
            with transaction.atomic():
                lines = seeder.seed()
            for line in lines:
                self.stdout.write(line)
