"""What the services hand to the workers, after their transaction commits.

Services name the tasks rather than import them: the tasks are thin adapters that call the
services, so importing them here would make the two import each other. `NotificationsConfig`
imports the tasks when the app is ready, so every process that enqueues knows them (and runs
them at once under `task_always_eager`)."""

from collections.abc import Sequence

from celery import current_app
from django.db import transaction

FAN_OUT_ALERT = "notifications.tasks.fan_out_alert"
SEND_DELIVERIES = "notifications.tasks.send_deliveries"
SWEEP_DELIVERIES = "notifications.tasks.sweep_deliveries"


def fan_out_now(*, alert_id: str) -> None:
    current_app.tasks[FAN_OUT_ALERT].delay(alert_id)


def fan_out_after_commit(*, alert_id: str) -> None:
    """Fan the alert out once the transaction that made it ready commits (at once outside
    one): a rollback leaves nothing queued, and the worker never reads an uncommitted row."""
    transaction.on_commit(lambda: fan_out_now(alert_id=alert_id))


def send_deliveries(*, delivery_ids: Sequence[int], channel: str) -> None:
    """One send task for these rows, on the channel's own queue."""
    current_app.tasks[SEND_DELIVERIES].apply_async(args=(list(delivery_ids),), queue=channel)
