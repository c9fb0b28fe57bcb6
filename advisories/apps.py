from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "advisories"

    def ready(self) -> None:
        from advisories.demo import seed_advisories
        from core import demo

        demo.register("advisories", seed_advisories, order=20)
