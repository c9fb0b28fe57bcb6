from datetime import timedelta

from celery import shared_task
from django.conf import settings

from core.queue import enqueue
from peers import services


@shared_task(name="peers.fetch_partner_advice")
def fetch_partner_advice() -> dict[str, int]:
    """Beat: one task per enabled source whose next attempt has come, so that a slow or
    broken source never holds up the others; and the warnings whose send never ran."""
    due = services.sources_due()
    for name in due:
        enqueue("peers.fetch_partner_source", name)
    unsent = services.peer_warnings_unsent(
        older_than=timedelta(seconds=settings.PEER_FETCH_SECONDS)
    )
    for warning_id in unsent:
        enqueue("peers.send_peer_warning", warning_id)
    return {"sources": len(due), "warnings_retried": len(unsent)}


@shared_task(name="peers.fetch_partner_source")
def fetch_partner_source(name: str) -> dict[str, object]:
    if name not in settings.PEER_SOURCES or not services.source_claim(name=name):
        return {"source": name, "ok": False}
    summary = services.source_fetch(name=name)
    return {"source": name, "ok": summary.ok, "changed": summary.changed}


@shared_task(name="peers.send_peer_warning")
def send_peer_warning(warning_id: str) -> dict[str, int]:
    return {"recipients": services.peer_warning_send(warning_id=warning_id)}
