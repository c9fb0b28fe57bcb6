"""The tasks notifications' services hand to the workers, by name (see `core.queue`)."""

from collections.abc import Sequence

from core.queue import enqueue, enqueue_after_commit

FAN_OUT_ALERT = "notifications.tasks.fan_out_alert"
SEND_DELIVERIES = "notifications.tasks.send_deliveries"
SWEEP_DELIVERIES = "notifications.tasks.sweep_deliveries"


def fan_out_now(*, alert_id: str) -> None:
    enqueue(FAN_OUT_ALERT, alert_id)


def fan_out_after_commit(*, alert_id: str) -> None:
    """Fan the alert out once the transaction that made it ready commits."""
    enqueue_after_commit(FAN_OUT_ALERT, alert_id)


def send_deliveries(*, delivery_ids: Sequence[int], channel: str) -> None:
    """One send task for these rows, on the channel's own queue."""
    enqueue(SEND_DELIVERIES, list(delivery_ids), queue=channel)
