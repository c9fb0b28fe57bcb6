"""Thin task adapters: one service call, a small summary out. Idempotent."""

from dataclasses import asdict

from celery import shared_task

from cases.services import safety_checks


@shared_task(queue="default")
def tick_safety_checks() -> dict[str, int]:
    return asdict(safety_checks.safety_checks_tick())
