from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeersConfig(AppConfig):
    name = "peers"
    verbose_name = _("Partner advisories")

    def ready(self) -> None:
        from core import health
        from peers.health import partner_sources

        # Services enqueue the tasks by name (core.queue).
        import_module("peers.tasks")
        health.register("partner_sources", partner_sources)
