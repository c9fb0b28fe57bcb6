"""Twilio's Programmable Messaging REST API (Messages resource), over a reused HTTP session.

Twilio's callbacks are form posts signed with the account's auth token (X-Twilio-Signature):
delivery reports to /api/v1/webhooks/sms/twilio/status (set TWILIO_STATUS_CALLBACK_URL to it),
replies to .../inbound (the number's or messaging service's incoming message webhook)."""

import base64
import hashlib
import hmac
from collections.abc import Mapping

import requests
from django.conf import settings
from django.http import HttpRequest

from core import sms
from core.channels import OutgoingMessage, Receipt, SendError

# Twilio error codes that no retry can fix (invalid or unreachable number, opted out...).
PERMANENT_ERROR_CODES = {21211, 21408, 21610, 21612, 21614, 30003, 30005, 30006, 30007}
# The message statuses that say how a message ended; others (queued, sent...) say nothing of it.
STATUSES = {"delivered": "delivered", "undelivered": "failed", "failed": "failed"}


def webhook_signature(*, auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 over the full URL followed by every POST
    parameter's name and value, sorted by name, in base64."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class SmsBackend(sms.SmsProvider):
    name = "twilio"

    def __init__(self) -> None:
        self.account_sid: str = settings.TWILIO_ACCOUNT_SID
        self.session = requests.Session()
        # The provider's address is configured here: never route through environment proxies
        # (and skip their lookup on every request).
        self.session.trust_env = False
        self.session.auth = (self.account_sid, settings.TWILIO_AUTH_TOKEN)

    @property
    def configured(self) -> bool:
        return bool(
            self.account_sid
            and settings.TWILIO_AUTH_TOKEN
            and (settings.TWILIO_FROM or settings.TWILIO_MESSAGING_SERVICE_SID)
        )

    def send(self, message: OutgoingMessage) -> Receipt:
        if not self.configured:
            raise sms.not_configured()
        data = {"To": message.to, "Body": message.text}
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
            raise SendError(type(exc).__name__, code="network", permanent=False) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 300:
            code = body.get("code") if isinstance(body, dict) else None
            raise SendError(
                f"HTTP {response.status_code}",
                code=str(code or response.status_code),
                permanent=code in PERMANENT_ERROR_CODES
                or (400 <= response.status_code < 500 and response.status_code != 429),
            )
        if not isinstance(body, dict) or not body.get("sid"):
            raise SendError("answer without a sid", code="bad_answer", permanent=False)
        return Receipt(
            provider_id=str(body["sid"]),
            segments=int(body.get("num_segments") or sms.segments(message.text)),
        )

    def close(self) -> None:
        self.session.close()

    def verify(self, request: HttpRequest) -> bool:
        auth_token: str = settings.TWILIO_AUTH_TOKEN
        signature = request.headers.get("X-Twilio-Signature", "")
        if not auth_token or not signature:
            return False
        expected = webhook_signature(
            auth_token=auth_token,
            url=settings.SITE_URL + request.get_full_path(),
            params=_params(request),
        )
        return hmac.compare_digest(expected, signature)

    def parse_status(self, request: HttpRequest) -> sms.StatusReport | None:
        params = _params(request)
        status = STATUSES.get(params.get("MessageStatus", ""))
        if status is None:
            return None
        return sms.StatusReport(
            provider_id=params.get("MessageSid", ""),
            status=status,
            error_code=params.get("ErrorCode", ""),
        )

    def parse_inbound(self, request: HttpRequest) -> sms.InboundText | None:
        params = _params(request)
        sender, body, provider_id = params.get("From"), params.get("Body"), params.get("MessageSid")
        if not (sender and provider_id) or body is None:
            return None
        return sms.InboundText(provider_id=provider_id, sender=sender, body=body)


def _params(request: HttpRequest) -> dict[str, str]:
    return {key: request.POST.get(key, "") for key in request.POST}
