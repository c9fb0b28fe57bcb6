from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = _("Registrations")

    def ready(self) -> None:
        from core import demo as core_demo
        from core import personal_data
        from registrations import demo, selectors, services

        # Services enqueue the tasks by name (core.queue).
        import_module("registrations.tasks")
        core_demo.register("registrations", demo.seed_citizens, order=30)
        # Last: the other apps' erasers need the citizen rows to find what is theirs.
        personal_data.register(
            "registrations",
            models=[
                "registrations.citizen",
                "registrations.householdmember",
                "registrations.presence",
            ],
            export=selectors.register_export,
            erase=services.citizens_erase,
            order=100,
        )
