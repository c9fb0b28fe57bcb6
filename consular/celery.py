"""The one Celery app, configured from Django settings (namespace CELERY)."""

import os

from celery import Celery
from celery.signals import worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consular.settings")

app = Celery("consular")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _warn_unconfigured_channels(**kwargs: object) -> None:
    from notifications.health import warn_unconfigured_channels

    warn_unconfigured_channels()


@worker_init.connect
def _preload_alert_rendering(**kwargs: object) -> None:
    # In the parent process, before the pool forks: every child inherits what it loads.
    from notifications.rendering import preload

    preload()
