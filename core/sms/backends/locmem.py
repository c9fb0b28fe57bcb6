import itertools

from core import sms
from core.channels import OutgoingMessage, Receipt

_ids = itertools.count(1)


class SmsBackend(sms.SmsProvider):
    """Keeps messages in `core.sms.outbox`; for tests."""

    name = "locmem"

    def send(self, message: OutgoingMessage) -> Receipt:
        sms.outbox.append(message)
        return Receipt(provider_id=f"locmem-{next(_ids)}", segments=sms.segments(message.text))
