from typing import Any

from django.core.management.base import BaseCommand

from regions.services import geography_load


class Command(BaseCommand):
    help = "Load or refresh ISO 3166 countries and regions (English and French names)."

    def handle(self, *args: Any, **options: Any) -> None:
        loaded = geography_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Geography: {loaded.countries} countries, {loaded.regions} regions."
            )
        )
