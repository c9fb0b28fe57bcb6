"""Twilio's webhooks as the provider class reads them: its signature, its statuses, its
replies. Signatures are computed here as Twilio computes them."""

import pytest
from django.test import RequestFactory

from core.sms import InboundText, StatusReport
from core.sms.backends.twilio import SmsBackend, webhook_signature

TOKEN = "twilio-auth-token"
SITE = "https://consular.example.org"
STATUS_PATH = "/api/v1/webhooks/sms/twilio/status"


@pytest.fixture(autouse=True)
def twilio_account(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SITE_URL = SITE


def _callback(params, *, path=STATUS_PATH, token=TOKEN, signature=None):
    signed = signature or webhook_signature(auth_token=token, url=SITE + path, params=params)
    return RequestFactory().post(path, params, headers={"X-Twilio-Signature": signed})


def test_twilio_signature_matches_twilios_published_example():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }

    signature = webhook_signature(
        auth_token="12345", url="https://mycompany.com/myapp.php?foo=1&bar=2", params=params
    )

    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_a_callback_signed_with_the_accounts_token_is_believed():
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}

    assert SmsBackend().verify(_callback(params)) is True
    # The query string is part of the signed URL.
    assert SmsBackend().verify(_callback(params, path=STATUS_PATH + "?attempt=2")) is True


def test_a_callback_signed_otherwise_or_changed_on_the_way_is_not():
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    changed = _callback(
        {**params, "MessageStatus": "failed"},
        signature=webhook_signature(auth_token=TOKEN, url=SITE + STATUS_PATH, params=params),
    )
    unsigned = RequestFactory().post(STATUS_PATH, params)

    assert SmsBackend().verify(_callback(params, token="another-token")) is False
    assert SmsBackend().verify(changed) is False
    assert SmsBackend().verify(unsigned) is False


def test_without_an_auth_token_nothing_is_believed(settings):
    request = _callback({"MessageSid": "SM1", "MessageStatus": "delivered"}, token="")
    settings.TWILIO_AUTH_TOKEN = ""

    assert SmsBackend().verify(request) is False


@pytest.mark.parametrize(
    ("twilio_status", "status"),
    [("delivered", "delivered"), ("undelivered", "failed"), ("failed", "failed")],
)
def test_final_statuses_are_reported(twilio_status, status):
    request = _callback({"MessageSid": "SM1", "MessageStatus": twilio_status, "ErrorCode": "30003"})

    assert SmsBackend().parse_status(request) == StatusReport(
        provider_id="SM1", status=status, error_code="30003"
    )


@pytest.mark.parametrize("twilio_status", ["queued", "sent", ""])
def test_statuses_that_say_nothing_of_delivery_are_none(twilio_status):
    request = _callback({"MessageSid": "SM1", "MessageStatus": twilio_status})

    assert SmsBackend().parse_status(request) is None


def test_a_reply_is_read_from_twilios_fields():
    request = _callback({"MessageSid": "SM2", "From": "+22370000001", "Body": "SAFE K7Q2"})

    assert SmsBackend().parse_inbound(request) == InboundText(
        provider_id="SM2", sender="+22370000001", body="SAFE K7Q2"
    )


@pytest.mark.parametrize(
    "params",
    [{"MessageSid": "SM2", "Body": "hi"}, {"From": "+22370000001", "Body": "hi"}],
)
def test_a_reply_without_its_sender_or_id_is_none(params):
    assert SmsBackend().parse_inbound(_callback(params)) is None
