"""The alerts' part of erasing a citizen (see `core.personal_data`)."""

import uuid

from django.db.models import Q

from core import personal_data
from core.crypto import keyed_hashes
from notifications.alerts import LANGUAGES
from notifications.ledger import ledger_lock
from notifications.models import Alert, Delivery, InboundMessage, OutboxMessage, Suppression
from registrations.selectors import citizen_addresses


def citizens_personal_data_erase(citizen_ids: list[uuid.UUID]) -> dict[str, int]:
    """The alerts' eraser (see `core.personal_data`), run before the citizen rows go.

    - Deliveries stay, so an alert's counts do not change, but lose the link to the person and
      the provider's error text (the only free text on the row). Nothing else on a row names
      anyone: the address is read from the register at send time, never stored here.
    - Suppressions exist only for the person: deleted.
    - Inbound texts lose their sender's number and their words (the row stays empty, so a
      provider retrying the webhook finds it and stores nothing again). Texts from one of
      their numbers that matched nobody at the time are theirs too.
    - A message alert written to them alone (a case officer's message, a clarification) has its
      texts replaced by the erased marker; alerts to many keep their shared texts.
    - The development outbox's copies of messages sent to an address they gave are deleted.
    """
    ledger_lock(exclusive=True)
    addresses = citizen_addresses(citizen_ids=citizen_ids)
    deliveries = Delivery.objects.filter(citizen_id__in=citizen_ids).update(
        citizen=None, error_reason=""
    )
    suppressions, _detail = Suppression.objects.filter(citizen_id__in=citizen_ids).delete()
    number_hashes = [
        digest
        for address in addresses
        if address.startswith("+")
        for digest in keyed_hashes(address, kind="phone")
    ]
    inbound = InboundMessage.objects.filter(
        Q(citizen_id__in=citizen_ids) | Q(citizen__isnull=True, sender_hash__in=number_hashes)
    ).update(citizen=None, sender="", sender_hash="", body="")
    to_them_alone = Q(pk__in=[])
    for citizen_id in citizen_ids:
        to_them_alone |= Q(citizen_ids=[str(citizen_id)])
    marker = personal_data.erased_marker()
    erased_texts = {
        language: {"subject": marker, "text": marker, "sms": marker} for language in LANGUAGES
    }
    alerts = Alert.objects.filter(to_them_alone, kind=Alert.Kind.MESSAGE).update(texts=erased_texts)
    outbox, _detail = OutboxMessage.objects.filter(to__in=addresses).delete()
    return {
        "notifications.delivery": deliveries,
        "notifications.suppression": suppressions,
        "notifications.inboundmessage": inbound,
        "notifications.alert": alerts,
        "notifications.outboxmessage": outbox,
    }
