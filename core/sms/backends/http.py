"""A generic JSON-over-HTTP SMS provider.

POST {SMS_HTTP_URL} with `{"to", "body", "reference"}`, bearer token SMS_HTTP_TOKEN and an
`Idempotency-Key` equal to our reference, so a retry after a time-out cannot send twice. The
provider answers 2xx with `{"id": "..."}`; 429 and 5xx are worth retrying, other 4xx are not.
"""

import requests
from django.conf import settings

from core import sms

RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class SmsBackend(sms.BaseSmsBackend):
    def __init__(self) -> None:
        self.url: str = settings.SMS_HTTP_URL
        self.configured = bool(self.url)
        self.session = requests.Session()
        # The provider's address is configured here: never route through environment proxies
        # (and skip their lookup on every request).
        self.session.trust_env = False
        if settings.SMS_HTTP_TOKEN:
            self.session.headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"

    def send(self, message: sms.SmsMessage) -> sms.SmsReceipt:
        if not self.configured:
            raise sms.SmsNotConfigured
        headers = {"Idempotency-Key": message.reference} if message.reference else {}
        try:
            response = self.session.post(
                self.url,
                json={"to": message.to, "body": message.body, "reference": message.reference},
                headers=headers,
                timeout=settings.SMS_HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise sms.SmsError(type(exc).__name__, code="network") from exc
        if response.status_code >= 300:
            raise sms.SmsError(
                f"HTTP {response.status_code}",
                code=str(response.status_code),
                permanent=response.status_code not in RETRYABLE_STATUSES,
            )
        try:
            provider_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise sms.SmsError("answer without an id", code="bad_answer") from exc
        return sms.SmsReceipt(provider_id=provider_id, segments=sms.segments(message.body))

    def close(self) -> None:
        self.session.close()
