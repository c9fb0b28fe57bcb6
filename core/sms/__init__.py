"""Text messages, the way django.core.mail does email: one call, a provider chosen by settings.

Both registrations (verification codes) and notifications (alerts) send SMS, so the transport
is shared kernel. `SMS_BACKEND` names the provider's class, one file under `backends/`: it
sends (`core.channels`' interface) and believes and reads its own webhooks. With none
configured in production the provider refuses to send rather than pretend (see
`backends.unconfigured`).
"""

import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

from core.channels import BaseChannel, OutgoingMessage, Receipt, SendError


@dataclass(frozen=True)
class StatusReport:
    """What a provider's status callback says about a message it took."""

    provider_id: str
    status: str  # delivered | failed
    reference: str = ""  # ours, when the provider echoes it
    error_code: str = ""


@dataclass(frozen=True)
class InboundText:
    """A text someone sent to our number."""

    provider_id: str
    sender: str
    body: str


class SmsProvider(BaseChannel):
    """One SMS provider: `send` (and `send_many` where the provider can do better than one at
    a time), and its webhooks. `name` is the provider's segment in the webhook URLs
    (/api/v1/webhooks/sms/<name>/status and .../inbound).

    A webhook is read only after `verify` has found the provider's signature on it. A provider
    without webhooks keeps these defaults: nothing it is sent is believed."""

    def verify(self, request: HttpRequest) -> bool:
        """Whether the provider signed this webhook request."""
        return False

    def parse_status(self, request: HttpRequest) -> StatusReport | None:
        """The delivery report, or None when the status says nothing about delivery (queued,
        sent...). A body the provider should not send raises ValidationFailed."""
        return None

    def parse_inbound(self, request: HttpRequest) -> InboundText | None:
        """The text received, or None when its sender, text or id is missing."""
        return None


def not_configured() -> SendError:
    """What a provider without its settings answers to every send: worth retrying, once it is
    configured."""
    return SendError(
        "No SMS provider is configured (SMS_BACKEND).", code="not_configured", permanent=False
    )


def get_backend() -> SmsProvider:
    provider: SmsProvider = import_string(settings.SMS_BACKEND)()
    return provider


def send_sms(*, to: str, body: str, reference: str = "") -> Receipt:
    """Send one message now through the configured provider; raises SendError on refusal."""
    provider = get_backend()
    try:
        return provider.send(OutgoingMessage(reference=reference, to=to, subject="", text=body))
    finally:
        provider.close()


# The GSM 03.38 basic alphabet and its extension table (each extension character costs two).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7 = GSM7_BASIC | GSM7_EXTENSION


# Letters and signs outside GSM-7 that read the same folded: the accents French writes on
# capitals and on â ê î ô û ë ï ç, ligatures and typographic quotes. One of them alone
# turns a whole message into UCS-2, less than half as many characters a part.
_GSM7_FOLDS = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "«": '"',
        "»": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def fold_to_gsm7(text: str) -> str:
    """The text in GSM-7 when folding accents and typography is enough ("Île" reads "Ile",
    "ç" "c"), so that it costs a GSM-7 part a 153 characters; otherwise the text unchanged
    (a script GSM-7 cannot write stays UCS-2 whole)."""
    if GSM7.issuperset(text):
        return text
    folded = []
    for char in text.translate(_GSM7_FOLDS):
        if char in GSM7:
            folded.append(char)
            continue
        base = unicodedata.normalize("NFD", char)[0]
        if base not in GSM7:
            return text
        folded.append(base)
    return "".join(folded)


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


# Messages "sent" through the locmem provider, like django.core.mail.outbox (tests only).
outbox: list[OutgoingMessage] = []
