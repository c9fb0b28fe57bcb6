"""What comes back from the providers: receipts that move a ledger row forward, complaints,
and the texts citizens send us (STOP, START and INFO here, answered through `replies`;
anything else, a SAFE or HELP reply or an ACCEPT, is published and routed by `inbound`)."""

import re
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import events
from notifications.events import InboundSmsReceived, SmsKeywordReceived
from notifications.models import Channel, Delivery, InboundMessage, Suppression
from notifications.suppressions import suppression_add, suppression_lift
from registrations.selectors import citizen_ids_by_phone

Status = Delivery.Status

# A receipt may move a row only forward along this order; final states never change, except
# that a late "delivered" settles an ambiguous row (it did leave, once).
_RANK = {
    Status.PENDING: 0,
    Status.SENDING: 1,
    Status.AMBIGUOUS: 2,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.BOUNCED: 3,
    Status.FAILED: 3,
}


@dataclass(frozen=True)
class ReceiptInput:
    channel: str
    status: str  # delivered | bounced | failed
    provider_id: str = ""
    delivery_id: int | None = None
    error_code: str = ""


def receipt_apply(*, receipt: ReceiptInput) -> bool:
    """Record a provider's receipt. Duplicates and receipts older than the row's state are
    harmless no-ops; returns whether the row changed. A hard bounce suppresses the channel."""
    # Our reference finds a row whose provider id is not recorded yet (a fast receipt).
    match = Q()
    if receipt.provider_id:
        match |= Q(provider_id=receipt.provider_id)
    if receipt.delivery_id is not None:
        match |= Q(id=receipt.delivery_id)
    if not match:
        return False
    rows = Delivery.objects.filter(match, channel=receipt.channel)
    new_status = Status(receipt.status)
    lower = [status for status, rank in _RANK.items() if rank < _RANK[new_status]]
    now = timezone.now()
    with transaction.atomic():
        row = rows.select_for_update().filter(status__in=lower).first()
        if row is None:
            return False
        row.status = new_status
        row.finished_at = now
        row.lease_expires_at = None
        if new_status == Status.DELIVERED:
            row.delivered_at = now
        else:
            row.error_code = receipt.error_code[:50]
        if receipt.provider_id and not row.provider_id:
            row.provider_id = receipt.provider_id
        row.save(
            update_fields=[
                "status",
                "finished_at",
                "lease_expires_at",
                "delivered_at",
                "error_code",
                "provider_id",
            ]
        )
        if new_status == Status.BOUNCED and row.citizen_id:
            suppression_add(
                citizen_id=row.citizen_id, channel=row.channel, reason=Suppression.Reason.BOUNCE
            )
    return True


def email_complaint_record(*, provider_id: str, delivery_id: int | None) -> None:
    """A recipient marked our email as spam: stop emailing them (the message did arrive)."""
    match = Q(provider_id=provider_id) if provider_id else Q(pk__in=[])
    if delivery_id is not None:
        match |= Q(id=delivery_id)
    row = Delivery.objects.filter(match, channel=Channel.EMAIL).only("citizen_id").first()
    if row is not None and row.citizen_id:
        suppression_add(
            citizen_id=row.citizen_id, channel=Channel.EMAIL, reason=Suppression.Reason.COMPLAINT
        )


# Keywords as `sms_keyword` leaves them (capitals, no accents, single spaces): the FCC's 2024
# opt-out list and what French speakers write (ARRÊT, DÉSABONNER).
OPT_OUT_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
        "ARRET",
        "DESABONNER",
    }
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE", "REPRENDRE"})
INFO_WORDS = frozenset({"INFO", "INFOS"})


class Keyword:
    """What a keyword asks for: the `keyword_code` of SmsKeywordReceived."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    INFO = "info"


def sms_keyword(body: str) -> str:
    """The text as keywords are compared: capitals without accents, the punctuation and spaces
    around and between words reduced to single spaces (" Arrêt !" is "ARRET", "opt-out" is
    "OPT OUT"). Only a whole text is a keyword: "STOP 12345" or a sentence that says stop is
    not."""
    decomposed = unicodedata.normalize("NFKD", body)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", bare.upper()).strip()


def inbound_record(*, provider: str, provider_id: str, sender: str, body: str) -> InboundMessage:
    """Store a text a citizen sent us, once. An opt-out word suppresses SMS for every citizen
    with that verified number, an opt-in word lifts it, and each is confirmed once by a text
    message when it changed something; INFO is answered with the advice for where the sender
    is. Anything else is published, and routed to the app whose word it is (`inbound`)."""
    citizen_ids = citizen_ids_by_phone(phone=sender)
    with transaction.atomic():
        message, created = InboundMessage.objects.get_or_create(
            provider=provider,
            provider_id=provider_id,
            defaults={
                "sender": sender[:32],
                "body": body[:1600],
                "citizen_id": citizen_ids[0] if citizen_ids else None,
            },
        )
        if not created:
            return message
        keyword = sms_keyword(body)
        answer = None
        if keyword in OPT_OUT_WORDS:
            added = [
                suppression_add(
                    citizen_id=citizen_id, channel=Channel.SMS, reason=Suppression.Reason.OPT_OUT
                )
                for citizen_id in citizen_ids
            ]
            # Confirmed once: a second STOP from a number already stopped gets no text.
            answer = Keyword.OPT_OUT if any(added) else None
        elif keyword in OPT_IN_WORDS:
            lifted = [
                suppression_lift(citizen_id=citizen_id, channel=Channel.SMS)
                for citizen_id in citizen_ids
            ]
            answer = Keyword.OPT_IN if any(lifted) else None
        elif keyword in INFO_WORDS:
            answer = Keyword.INFO
        else:
            events.publish(
                InboundSmsReceived(
                    message_id=str(message.id),
                    citizen_id=str(message.citizen_id) if message.citizen_id else None,
                )
            )
        # The answer goes through the ledger to the citizen the message names, so a number
        # that matches no citizen gets none: there is nobody to write a ledger row for.
        if answer is not None and message.citizen_id is not None:
            events.publish(SmsKeywordReceived(message_id=str(message.id), keyword_code=answer))
    return message


def inbound_message_claim(*, message_id: str) -> InboundMessage | None:
    """The message, marked handled in the caller's transaction; None when it does not exist or
    is handled already. Two concurrent claims queue on the row: the second finds it handled
    once the first commits, or claims it if the first rolled back."""
    claimed = InboundMessage.objects.filter(id=message_id, handled_at__isnull=True).update(
        handled_at=timezone.now()
    )
    if not claimed:
        return None
    return InboundMessage.objects.only("id", "sender", "body", "citizen_id").get(id=message_id)
