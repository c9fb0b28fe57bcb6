"""Twilio's Programmable Messaging REST API (Messages resource), over a reused HTTP session."""

import requests
from django.conf import settings

from core import sms

# Twilio error codes that no retry can fix (invalid or unreachable number, opted out...).
PERMANENT_ERROR_CODES = {21211, 21408, 21610, 21612, 21614, 30003, 30005, 30006, 30007}


class SmsBackend(sms.BaseSmsBackend):
    def __init__(self) -> None:
        self.account_sid: str = settings.TWILIO_ACCOUNT_SID
        self.configured = bool(
            self.account_sid
            and settings.TWILIO_AUTH_TOKEN
            and (settings.TWILIO_FROM or settings.TWILIO_MESSAGING_SERVICE_SID)
        )
        self.session = requests.Session()
        # The provider's address is configured here: never route through environment proxies
        # (and skip their lookup on every request).
        self.session.trust_env = False
        self.session.auth = (self.account_sid, settings.TWILIO_AUTH_TOKEN)

    def send(self, message: sms.SmsMessage) -> sms.SmsReceipt:
        if not self.configured:
            raise sms.SmsNotConfigured
        data = {"To": message.to, "Body": message.body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            data["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            data["From"] = settings.TWILIO_FROM
        if settings.TWILIO_STATUS_CALLBACK_URL:
            data["StatusCallback"] = settings.TWILIO_STATUS_CALLBACK_URL
        url = f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = self.session.post(url, data=data, timeout=settings.SMS_HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise sms.SmsError(type(exc).__name__, code="network") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 300:
            code = body.get("code") if isinstance(body, dict) else None
            raise sms.SmsError(
                f"HTTP {response.status_code}",
                code=str(code or response.status_code),
                permanent=code in PERMANENT_ERROR_CODES
                or (400 <= response.status_code < 500 and response.status_code != 429),
            )
        if not isinstance(body, dict) or not body.get("sid"):
            raise sms.SmsError("answer without a sid", code="bad_answer")
        return sms.SmsReceipt(
            provider_id=str(body["sid"]),
            segments=int(body.get("num_segments") or sms.segments(message.body)),
        )

    def close(self) -> None:
        self.session.close()
