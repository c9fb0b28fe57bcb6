"""Thin task adapters: one service call, a small summary out. Idempotent."""

from celery import shared_task

from departures.services import offers


@shared_task(queue="default")
def expire_seat_offers() -> dict[str, int]:
    """Seat offers past their deadline give their seats back; a second run finds none."""
    return {"expired": offers.offers_expire()}
