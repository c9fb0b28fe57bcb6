import hashlib
import hmac
import json

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.sms.backends import twilio
from notifications import receipts
from notifications.models import Delivery, InboundMessage, Suppression
from tests.notifications.conftest import make_citizen
from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.usefixtures("geography")

Status = Delivery.Status
TOKEN = "twilio-auth-token"
SECRET = "http-webhook-secret"
STATUS_PATH = "/api/v1/webhooks/sms/{provider}/status"
INBOUND_PATH = "/api/v1/webhooks/sms/{provider}/inbound"
TWILIO = "core.sms.backends.twilio.SmsBackend"
HTTP = "core.sms.backends.http.SmsBackend"


@pytest.fixture(autouse=True)
def provider_secrets(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET
    settings.SITE_URL = "https://consular.example.org"


def twilio_post(api_client, path, params, *, signature=None):
    """Post as Twilio does, to a site whose SMS provider is Twilio."""
    signed = signature or twilio.webhook_signature(
        auth_token=TOKEN, url="https://consular.example.org" + path, params=params
    )
    with override_settings(SMS_BACKEND=TWILIO):
        return api_client.post(
            path, params, format="multipart", headers={"X-Twilio-Signature": signed}
        )


def http_post(api_client, path, payload, *, secret=SECRET):
    """Post as the generic HTTP provider does, to a site whose SMS provider it is."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with override_settings(SMS_BACKEND=HTTP):
        return api_client.generic(
            "POST", path, body, content_type="application/json", headers={"X-Signature": signature}
        )


def test_twilio_receipt_marks_the_row_delivered(api_client):
    row = DeliveryFactory(citizen=make_citizen("ML-7"))
    path = STATUS_PATH.format(provider="twilio")

    response = twilio_post(
        api_client, path, {"MessageSid": row.provider_id, "MessageStatus": "delivered"}
    )

    assert response.status_code == 204
    row.refresh_from_db()
    assert row.status == Status.DELIVERED
    assert row.delivered_at is not None


def test_receipt_with_a_bad_signature_is_refused_and_changes_nothing(api_client):
    row = DeliveryFactory(citizen=make_citizen("ML-7"))
    params = {"MessageSid": row.provider_id, "MessageStatus": "failed"}

    twilio = twilio_post(api_client, STATUS_PATH.format(provider="twilio"), params, signature="x")
    http = http_post(
        api_client,
        STATUS_PATH.format(provider="http"),
        {"id": row.provider_id, "status": "failed"},
        secret="wrong",
    )

    assert (twilio.status_code, http.status_code) == (403, 403)
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_unknown_provider_answers_404(api_client):
    response = http_post(api_client, STATUS_PATH.format(provider="carrier-pigeon"), {})

    assert response.status_code == 404


def test_a_provider_the_site_does_not_send_through_answers_404(api_client):
    row = DeliveryFactory(citizen=make_citizen("ML-7"))
    path = STATUS_PATH.format(provider="twilio")
    params = {"MessageSid": row.provider_id, "MessageStatus": "failed"}
    signed = twilio.webhook_signature(
        auth_token=TOKEN, url="https://consular.example.org" + path, params=params
    )

    # Signed with the Twilio token the site still has, but the site sends through the HTTP
    # provider: Twilio has nothing to report.
    with override_settings(SMS_BACKEND=HTTP):
        response = api_client.post(
            path, params, format="multipart", headers={"X-Twilio-Signature": signed}
        )

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_http_receipt_for_a_row_still_being_recorded_moves_it_forward(api_client):
    row = DeliveryFactory(citizen=make_citizen("ML-7"), status=Status.SENDING, provider_id="")

    response = http_post(
        api_client,
        STATUS_PATH.format(provider="http"),
        {"id": "sms-77", "reference": str(row.id), "status": "delivered"},
    )

    assert response.status_code == 204
    row.refresh_from_db()
    assert (row.status, row.provider_id) == (Status.DELIVERED, "sms-77")


EVENTS = st.lists(st.sampled_from(["delivered", "failed", "bounced"]), min_size=1, max_size=8)


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_receipts_in_any_order_and_repeated_only_move_forward(events):
    row = DeliveryFactory(citizen=None)
    first_final = None

    for status in events:
        changed = receipts.receipt_apply(
            receipt=receipts.ReceiptInput(channel="sms", status=status, provider_id=row.provider_id)
        )
        row.refresh_from_db()
        if first_final is None:
            assert changed
            first_final = status
        else:
            assert not changed
        assert row.status == first_final


def test_hard_bounce_suppresses_the_channel(api_client):
    citizen = make_citizen("ML-7")
    row = DeliveryFactory(citizen=citizen, channel="email")

    receipts.receipt_apply(
        receipt=receipts.ReceiptInput(
            channel="email", status="bounced", provider_id=row.provider_id
        )
    )

    assert Suppression.objects.filter(citizen=citizen, channel="email", reason="bounce").exists()


def test_stop_suppresses_sms_and_start_lifts_it(api_client):
    citizen = make_citizen("ML-7")
    path = INBOUND_PATH.format(provider="twilio")

    twilio_post(api_client, path, {"MessageSid": "SM1", "From": citizen.phone, "Body": "stop"})
    assert Suppression.objects.filter(citizen=citizen, channel="sms").exists()

    twilio_post(api_client, path, {"MessageSid": "SM2", "From": citizen.phone, "Body": "START"})
    assert not Suppression.objects.filter(citizen=citizen, channel="sms").exists()


def test_other_replies_are_stored_once_and_published(
    api_client, django_capture_on_commit_callbacks
):
    from core import events
    from notifications.events import InboundSmsReceived

    citizen = make_citizen("ML-7")
    seen: list[InboundSmsReceived] = []
    events.subscribe(InboundSmsReceived, seen.append)
    try:
        payload = {"id": "in-1", "from": citizen.phone, "body": "SAFE"}
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                response = http_post(api_client, INBOUND_PATH.format(provider="http"), payload)
            assert response.status_code == 204
    finally:
        events.unsubscribe(InboundSmsReceived, seen.append)

    message = InboundMessage.objects.get()
    assert (message.body, message.citizen_id) == ("SAFE", citizen.id)
    assert seen == [InboundSmsReceived(message_id=str(message.id), citizen_id=str(citizen.id))]


def test_inbound_without_sender_is_a_clear_400(api_client):
    response = http_post(
        api_client, INBOUND_PATH.format(provider="http"), {"id": "x", "body": "hi"}
    )

    assert response.status_code == 400
    assert "body" in response.json()["errors"]
