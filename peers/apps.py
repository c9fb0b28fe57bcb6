from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeersConfig(AppConfig):
    name = "peers"
    verbose_name = _("Partner advisories")

    def ready(self) -> None:
        from advisories import review
        from core import health
        from peers.health import partner_sources
        from peers.selectors import partner_levels_panel

        # Services enqueue the tasks by name (core.queue).
        import_module("peers.tasks")
        health.register("partner_sources", partner_sources)
        # The approver reads the partners' levels beside the version they approve.
        review.register_panel(partner_levels_panel)
