"""Email receipts through django-anymail: a provider's tracking webhook becomes a signal that
moves the ledger, and its answer to a send is the id the receipts will name."""

import pytest
from anymail.signals import AnymailTrackingEvent, EventType, tracking

from core.channels import OutgoingMessage
from core.channels.email import EmailChannel
from notifications.models import Delivery, Suppression
from tests.notifications.conftest import make_citizen
from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.usefixtures("geography")

Status = Delivery.Status


def provider_event(event_type, *, message_id="", delivery_id=None):
    event = AnymailTrackingEvent(
        event_type=event_type,
        message_id=message_id,
        metadata={"delivery_id": str(delivery_id)} if delivery_id else {},
    )
    tracking.send(sender=object, event=event, esp_name="Test")


def test_provider_delivered_event_marks_the_row_delivered():
    row = DeliveryFactory(citizen=make_citizen("ML-7"), channel="email", provider_id="esp-1")

    provider_event(EventType.DELIVERED, message_id="esp-1")

    row.refresh_from_db()
    assert row.status == Status.DELIVERED


def test_bounce_found_by_our_metadata_suppresses_email():
    citizen = make_citizen("ML-7")
    row = DeliveryFactory(citizen=citizen, channel="email", status=Status.SENDING, provider_id="")

    provider_event(EventType.BOUNCED, delivery_id=row.id)

    row.refresh_from_db()
    assert row.status == Status.BOUNCED
    assert Suppression.objects.filter(citizen=citizen, channel="email", reason="bounce").exists()


def test_complaint_suppresses_email_and_opens_change_nothing():
    citizen = make_citizen("ML-7")
    row = DeliveryFactory(citizen=citizen, channel="email", provider_id="esp-2")

    provider_event(EventType.OPENED, message_id="esp-2")
    provider_event(EventType.COMPLAINED, message_id="esp-2")

    row.refresh_from_db()
    assert row.status == Status.SENT
    assert Suppression.objects.filter(citizen=citizen, channel="email", reason="complaint").exists()


def test_anymail_provider_answer_is_the_recorded_id(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    channel = EmailChannel()
    channel.open()

    receipt = channel.send(
        OutgoingMessage(reference="42", to="a@example.org", subject="s", text="t", html="<p>t</p>")
    )
    channel.close()

    assert receipt.provider_id
    assert "consular.invalid" not in receipt.provider_id
