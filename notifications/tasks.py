"""Thin task adapters: ids in, one service call, a small summary out. All idempotent."""

from dataclasses import asdict

from celery import shared_task

from notifications import services


@shared_task(queue="default")
def fan_out_alert(alert_id: str) -> dict[str, object]:
    return asdict(services.alert_fan_out(alert_id=alert_id))


@shared_task
def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    return asdict(services.deliveries_send(delivery_ids=delivery_ids))


@shared_task(queue="default")
def sweep_deliveries() -> dict[str, int]:
    return asdict(services.deliveries_sweep())
