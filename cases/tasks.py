"""Thin task adapters: one service call, a small summary out. Idempotent."""

from dataclasses import asdict

from celery import shared_task

from cases.services import safety_checks
from notifications.events import InboundSmsReceived


@shared_task(queue="default")
def tick_safety_checks() -> dict[str, int]:
    return asdict(safety_checks.safety_checks_tick())


@shared_task(queue="default")
def handle_sms_reply(message_id: str, citizen_id: str | None) -> dict[str, str]:
    """A second run finds the message handled and does nothing."""
    outcome = safety_checks.sms_reply_handle(
        event=InboundSmsReceived(message_id=message_id, citizen_id=citizen_id)
    )
    return {"outcome": outcome}
