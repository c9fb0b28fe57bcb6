"""A generic JSON-over-HTTP SMS provider.

POST {SMS_HTTP_URL} with `{"to", "body", "reference"}`, bearer token SMS_HTTP_TOKEN and an
`Idempotency-Key` equal to our reference, so a retry after a time-out cannot send twice. The
provider answers 2xx with `{"id": "..."}`; 429 and 5xx are worth retrying, other 4xx are not.

Requests go through urllib3's connection pool (kept alive across a send batch) rather than
requests' session: requests spends about a millisecond of CPU preparing each call, which a
fan-out of thousands of texts pays on every one.
"""

import json

import urllib3
from django.conf import settings

from core import sms

RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class SmsBackend(sms.BaseSmsBackend):
    def __init__(self) -> None:
        self.url: str = settings.SMS_HTTP_URL
        self.configured = bool(self.url)
        # The provider's address is configured here: no environment proxies, no retries of
        # our own (a retry is the ledger's decision, with its backoff), one connection kept.
        self.pool = urllib3.PoolManager(
            num_pools=1,
            maxsize=1,
            retries=False,
            timeout=urllib3.Timeout(total=settings.SMS_HTTP_TIMEOUT),
        )
        self.headers = {"Content-Type": "application/json"}
        if settings.SMS_HTTP_TOKEN:
            self.headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"

    def send(self, message: sms.SmsMessage) -> sms.SmsReceipt:
        if not self.configured:
            raise sms.SmsNotConfigured
        headers = dict(self.headers)
        if message.reference:
            headers["Idempotency-Key"] = message.reference
        body = json.dumps({"to": message.to, "body": message.body, "reference": message.reference})
        try:
            response = self.pool.request("POST", self.url, body=body.encode(), headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise sms.SmsError(type(exc).__name__, code="network") from exc
        if response.status >= 300:
            raise sms.SmsError(
                f"HTTP {response.status}",
                code=str(response.status),
                permanent=response.status not in RETRYABLE_STATUSES,
            )
        try:
            provider_id = str(json.loads(response.data)["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise sms.SmsError("answer without an id", code="bad_answer") from exc
        return sms.SmsReceipt(provider_id=provider_id, segments=sms.segments(message.body))

    def close(self) -> None:
        self.pool.clear()
