import sys
import uuid

from core import sms
from core.channels import OutgoingMessage, Receipt


class SmsBackend(sms.SmsProvider):
    """Prints each message to standard output: development only, nothing leaves the machine."""

    name = "console"

    def send(self, message: OutgoingMessage) -> Receipt:
        sys.stdout.write(f"SMS to {message.to} ({message.reference or '-'}):\n{message.text}\n\n")
        sys.stdout.flush()
        return Receipt(provider_id=f"console-{uuid.uuid4()}", segments=sms.segments(message.text))
