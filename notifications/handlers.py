"""Reactions to other apps' events, subscribed in NotificationsConfig.ready()."""

from anymail.signals import AnymailTrackingEvent, EventType

from advisories.events import RiskLevelChanged
from notifications.alerts import alert_create_for_level_change
from notifications.events import InboundSmsReceived, SmsKeywordReceived
from notifications.inbound import inbound_route
from notifications.models import Channel
from notifications.receipts import ReceiptInput, email_complaint_record, receipt_apply
from notifications.replies import sms_keyword_answer


def on_risk_level_changed(event: RiskLevelChanged) -> None:
    alert_create_for_level_change(event=event)


def on_sms_keyword(event: SmsKeywordReceived) -> None:
    sms_keyword_answer(message_id=event.message_id, keyword_code=event.keyword_code)


def on_inbound_sms(event: InboundSmsReceived) -> None:
    inbound_route(message_id=event.message_id)


# What an email provider's event means for the ledger; other events (opened, clicked,
# queued...) say nothing about delivery.
EMAIL_EVENT_STATUSES = {
    EventType.DELIVERED: "delivered",
    EventType.BOUNCED: "bounced",
    EventType.REJECTED: "bounced",
    EventType.FAILED: "failed",
}


def on_email_tracking(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object
) -> None:
    """anymail's tracking signal: a provider's webhook, already authenticated by anymail."""
    delivery_id = str((event.metadata or {}).get("delivery_id", ""))
    reference = int(delivery_id) if delivery_id.isdigit() else None
    if event.event_type == EventType.COMPLAINED:
        email_complaint_record(provider_id=event.message_id or "", delivery_id=reference)
        return
    status = EMAIL_EVENT_STATUSES.get(event.event_type)
    if status is None:
        return
    receipt_apply(
        receipt=ReceiptInput(
            channel=Channel.EMAIL,
            status=status,
            provider_id=event.message_id or "",
            delivery_id=reference,
            error_code=(event.reject_reason or "")[:50],
        )
    )
