import sys
import uuid

from core import sms


class SmsBackend(sms.BaseSmsBackend):
    """Prints each message to standard output: development only, nothing leaves the machine."""

    def send(self, message: sms.SmsMessage) -> sms.SmsReceipt:
        sys.stdout.write(f"SMS to {message.to} ({message.reference or '-'}):\n{message.body}\n\n")
        sys.stdout.flush()
        return sms.SmsReceipt(provider_id=f"console-{uuid.uuid4()}")
