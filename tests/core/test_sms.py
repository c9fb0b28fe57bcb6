import pytest

from core import sms


def test_send_sms_goes_through_the_configured_backend(sms_outbox):
    receipt = sms.send_sms(to="+22370000001", body="Code 123456", reference="d-1")

    assert receipt.provider_id.startswith("locmem-")
    assert sms_outbox == [sms.SmsMessage(to="+22370000001", body="Code 123456", reference="d-1")]


def test_unconfigured_backend_refuses_to_send(settings):
    settings.SMS_BACKEND = "core.sms.backends.unconfigured.SmsBackend"

    with pytest.raises(sms.SmsNotConfigured):
        sms.send_sms(to="+22370000001", body="hello")
    assert sms.get_backend().configured is False


def test_console_backend_prints_the_message(settings, capsys):
    settings.SMS_BACKEND = "core.sms.backends.console.SmsBackend"

    receipt = sms.send_sms(to="+22370000001", body="hello")

    assert "+22370000001" in capsys.readouterr().out
    assert receipt.provider_id.startswith("console-")
