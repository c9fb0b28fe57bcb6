"""Thin task adapters: one service call, a small summary out. Idempotent."""

from dataclasses import asdict

from celery import shared_task

from core import events


@shared_task(queue="default")
def relay_events() -> dict[str, int]:
    return asdict(events.events_relay())
