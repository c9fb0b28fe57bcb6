"""A generic JSON-over-HTTP SMS provider.

POST {SMS_HTTP_URL} with `{"to", "body", "reference"}`, bearer token SMS_HTTP_TOKEN and an
`Idempotency-Key` equal to our reference, so a retry after a time-out cannot send twice. The
provider answers 2xx with `{"id": "..."}`; 429 and 5xx are worth retrying, other 4xx are not.

Its webhooks POST JSON signed with SMS_HTTP_WEBHOOK_SECRET (X-Signature: HMAC-SHA256 of the raw
body, in hex): delivery reports `{"id", "reference", "status", "error_code"}` to
/api/v1/webhooks/sms/http/status, replies `{"id", "from", "body"}` to .../inbound.

Requests go over one kept-alive connection of the standard library's http.client: urllib3's
pool and requests' session spend several times its CPU on each request, which a fan-out of
thousands of texts pays on every one (docs/performance.md).
"""

import hashlib
import hmac
import http.client
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from core import sms
from core.channels import OutgoingMessage, Receipt, SendError
from core.exceptions import ValidationFailed

RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}
# The provider's delivery statuses that say how a message ended; others say nothing of it.
STATUSES = {"delivered": "delivered", "failed": "failed", "undelivered": "failed"}


def webhook_signature(*, secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SmsBackend(sms.SmsProvider):
    name = "http"

    def __init__(self) -> None:
        self.url: str = settings.SMS_HTTP_URL
        target = urlsplit(self.url)
        self.https = target.scheme == "https"
        self.host = target.hostname or ""
        try:
            self.port = target.port
        except ValueError:  # Not a number: the URL cannot be used.
            self.host, self.port = "", None
        # A URL we cannot send to counts as none: /healthz and the worker's start say so, and
        # sending fails rather than guesses.
        self.url_usable = target.scheme in {"http", "https"} and bool(self.host)
        self.path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        self.timeout: float = settings.SMS_HTTP_TIMEOUT
        self.connection: http.client.HTTPConnection | None = None
        self.headers = {"Content-Type": "application/json"}
        if settings.SMS_HTTP_TOKEN:
            self.headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"

    @property
    def configured(self) -> bool:
        return self.url_usable

    def send(self, message: OutgoingMessage) -> Receipt:
        if not self.configured:
            raise sms.not_configured()
        headers = dict(self.headers)
        if message.reference:
            headers["Idempotency-Key"] = message.reference
        body = json.dumps(
            {"to": message.to, "body": message.text, "reference": message.reference}
        ).encode()
        try:
            status, answer = self._post(body, headers, resend=bool(message.reference))
        except (OSError, http.client.HTTPException) as exc:
            # The connection's state is unknown (a time-out may leave an answer in flight).
            self.close()
            raise SendError(type(exc).__name__, code="network", permanent=False) from exc
        if status >= 300:
            raise SendError(
                f"HTTP {status}", code=str(status), permanent=status not in RETRYABLE_STATUSES
            )
        try:
            provider_id = str(json.loads(answer)["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SendError("answer without an id", code="bad_answer", permanent=False) from exc
        return Receipt(provider_id=provider_id, segments=sms.segments(message.text))

    def _post(self, body: bytes, headers: dict[str, str], *, resend: bool) -> tuple[int, bytes]:
        kept = self.connection is not None and self.connection.sock is not None
        try:
            return self._exchange(body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not (kept and resend):
                raise
            # The provider closed the kept-alive connection while it was idle: once more on a
            # new one. The Idempotency-Key makes it safe even had the first request arrived.
            self.close()
            return self._exchange(body, headers)

    def _exchange(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.connection is None:
            connection_class = (
                http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            )
            self.connection = connection_class(self.host, self.port, timeout=self.timeout)
        self.connection.request("POST", self.path, body=body, headers=headers)
        response = self.connection.getresponse()
        # Read to the end, so the connection can carry the next request.
        return response.status, response.read()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def verify(self, request: HttpRequest) -> bool:
        secret: str = settings.SMS_HTTP_WEBHOOK_SECRET
        signature = request.headers.get("X-Signature", "")
        if not secret or not signature:
            return False
        return hmac.compare_digest(webhook_signature(secret=secret, body=request.body), signature)

    def parse_status(self, request: HttpRequest) -> sms.StatusReport | None:
        payload = _payload(request)
        status = STATUSES.get(payload.get("status", ""))
        if status is None:
            return None
        return sms.StatusReport(
            provider_id=payload.get("id", ""),
            status=status,
            reference=payload.get("reference", ""),
            error_code=payload.get("error_code", ""),
        )

    def parse_inbound(self, request: HttpRequest) -> sms.InboundText | None:
        payload = _payload(request)
        sender, body, provider_id = payload.get("from"), payload.get("body"), payload.get("id")
        if not (sender and provider_id) or body is None:
            return None
        return sms.InboundText(provider_id=provider_id, sender=sender, body=body)


def _payload(request: HttpRequest) -> dict[str, str]:
    try:
        data = json.loads(request.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed("Expected a JSON object.", field="body")
    return {str(key): str(value) for key, value in data.items()}
