import pytest

from core import sms
from core.channels import OutgoingMessage, SendError


def test_send_sms_goes_through_the_configured_backend(sms_outbox):
    receipt = sms.send_sms(to="+22370000001", body="Code 123456", reference="d-1")

    assert receipt.provider_id.startswith("locmem-")
    assert sms_outbox == [
        OutgoingMessage(reference="d-1", to="+22370000001", subject="", text="Code 123456")
    ]


def test_unconfigured_backend_refuses_to_send(settings):
    settings.SMS_BACKEND = "core.sms.backends.unconfigured.SmsBackend"

    with pytest.raises(SendError) as refused:
        sms.send_sms(to="+22370000001", body="hello")
    assert (refused.value.code, refused.value.permanent) == ("not_configured", False)
    assert sms.get_backend().configured is False


def test_console_backend_prints_the_message(settings, capsys):
    settings.SMS_BACKEND = "core.sms.backends.console.SmsBackend"

    receipt = sms.send_sms(to="+22370000001", body="hello")

    assert "+22370000001" in capsys.readouterr().out
    assert receipt.provider_id.startswith("console-")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        # An extension character takes two septets.
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("a" * 159 + "[", 2),
        # One character outside GSM-7 turns the whole text into UCS-2.
        ("Ê" + "a" * 69, 1),
        ("Ê" + "a" * 70, 2),
        ("Ê" + "a" * 133, 2),
        ("Ê" + "a" * 134, 3),
        # Beyond the basic plane a character is two UTF-16 units.
        ("\N{WARNING SIGN}\ufe0f" + "\N{GRINNING FACE}" * 34, 1),
        ("\N{GRINNING FACE}" * 36, 2),
        ("", 1),
    ],
)
def test_segments_count_gsm7_septets_or_ucs2_units(text, parts):
    assert sms.segments(text) == parts


def test_a_provider_without_webhooks_believes_none(rf):
    request = rf.post("/api/v1/webhooks/sms/locmem/status", {"status": "delivered"})

    assert sms.get_backend().verify(request) is False
