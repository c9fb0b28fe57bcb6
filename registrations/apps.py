from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = _("Registrations")

    def ready(self) -> None:
        from core import demo as core_demo
        from registrations import demo

        core_demo.register("registrations", demo.seed_citizens, order=30)
