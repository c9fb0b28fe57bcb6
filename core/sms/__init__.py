"""Text messages, the way django.core.mail does email: one call, a backend chosen by settings.

Both registrations (verification codes) and notifications (alerts) send SMS, so the transport
is shared kernel. `SMS_BACKEND` names the backend class; with none configured in production the
backend refuses to send rather than pretend (see `backends.unconfigured`).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, e.g. +22370000000
    body: str
    # Our id for the message (a delivery id), echoed back by providers in receipts.
    reference: str = ""


@dataclass(frozen=True)
class SmsReceipt:
    """A provider's answer: it accepted the message under `provider_id`."""

    provider_id: str
    segments: int = 1
    extra: dict[str, str] = field(default_factory=dict)


class SmsError(Exception):
    """The provider refused the message. `permanent` means retrying cannot help (bad number,
    opted out); otherwise the send may be retried later."""

    def __init__(self, message: str, *, code: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class SmsNotConfigured(SmsError):
    def __init__(self) -> None:
        super().__init__(
            "No SMS provider is configured (SMS_BACKEND).", code="not_configured", permanent=False
        )


class BaseSmsBackend:
    """Subclasses implement `send`; one backend instance may be reused for many
    messages so HTTP connections are kept alive."""

    configured = True

    def send(self, message: SmsMessage) -> SmsReceipt:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; called when a batch is done."""


def get_backend(path: str | None = None) -> BaseSmsBackend:
    backend_class = import_string(path or settings.SMS_BACKEND)
    backend: BaseSmsBackend = backend_class()
    return backend


def send_sms(*, to: str, body: str, reference: str = "") -> SmsReceipt:
    """Send one message now through the configured backend; raises SmsError on refusal."""
    backend = get_backend()
    try:
        return backend.send(SmsMessage(to=to, body=body, reference=reference))
    finally:
        backend.close()


# The GSM 03.38 basic alphabet and its extension table (each extension character costs two).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENSION


def segments(text: str) -> int:
    """How many SMS parts the text takes: 160/153 GSM-7 septets, or 70/67 UCS-2 characters
    as soon as one character is outside GSM-7 (an accented capital, an emoji)."""
    # Set and count operations rather than a loop per character: every text of a fan-out is
    # counted.
    if GSM7.issuperset(text):
        length = len(text) + sum(text.count(char) for char in GSM7_EXTENSION)
        single, multi = 160, 153
    else:
        # UCS-2 counts UTF-16 code units: characters beyond the BMP take two.
        length = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if length <= single:
        return 1
    return -(-length // multi)


# Messages "sent" through the locmem backend, like django.core.mail.outbox (tests only).
outbox: list[SmsMessage] = []
