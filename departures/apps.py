from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeparturesConfig(AppConfig):
    name = "departures"
    verbose_name = _("Assisted departure")

    def ready(self) -> None:
        from core import panels, personal_data
        from departures import erasure, selectors
        from departures.panels import manage_panel

        panels.register("citizen_manage", manage_panel)

        personal_data.register(
            "departures",
            models=[
                "departures.intent",
                "departures.traveller",
                "departures.offer",
                "departures.boarding",
            ],
            export=selectors.citizen_departure_export,
            erase=erasure.citizens_departure_erase,
        )
