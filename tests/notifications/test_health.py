import logging

import pytest

from notifications.health import warn_unconfigured_channels

pytestmark = pytest.mark.django_db


def test_healthz_says_when_no_sms_provider_is_configured(client, settings):
    settings.SMS_BACKEND = "core.sms.backends.unconfigured.SmsBackend"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["channel_sms"] == {
        "ok": False,
        "detail": "no sms provider configured",
    }
    assert response.json()["checks"]["channel_email"]["ok"] is True


def test_worker_start_logs_each_unconfigured_channel(settings, caplog):
    settings.SMS_BACKEND = "core.sms.backends.unconfigured.SmsBackend"

    with caplog.at_level(logging.ERROR, logger="notifications.health"):
        missing = warn_unconfigured_channels()

    assert missing == ["channel_sms"]
    assert "no provider configured" in caplog.text


def test_configured_channels_keep_healthz_green(client):
    assert client.get("/healthz").json()["checks"]["channel_sms"]["ok"] is True
