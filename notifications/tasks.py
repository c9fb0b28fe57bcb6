"""Thin task adapters: ids in, one service call, a small summary out. All idempotent."""

from dataclasses import asdict

from celery import shared_task

from notifications import fan_out, queue, sending


@shared_task(name=queue.FAN_OUT_ALERT, queue="default")
def fan_out_alert(alert_id: str) -> dict[str, object]:
    return asdict(fan_out.alert_fan_out(alert_id=alert_id))


@shared_task(name=queue.SEND_DELIVERIES)
def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    return asdict(sending.deliveries_send(delivery_ids=delivery_ids))


@shared_task(name=queue.SWEEP_DELIVERIES, queue="default")
def sweep_deliveries() -> dict[str, int]:
    return asdict(sending.deliveries_sweep())
