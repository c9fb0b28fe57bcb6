from core import sms
from notifications.channels import BaseChannel, OutgoingMessage, Receipt, SendError


class SmsChannel(BaseChannel):
    """SMS through the configured `core.sms` backend (console, HTTP provider, Twilio)."""

    name = "sms"

    def __init__(self) -> None:
        self.backend = sms.get_backend()

    @property
    def configured(self) -> bool:
        return self.backend.configured

    def send(self, message: OutgoingMessage) -> Receipt:
        try:
            receipt = self.backend.send(
                sms.SmsMessage(to=message.to, body=message.text, reference=str(message.delivery_id))
            )
        except sms.SmsError as exc:
            raise SendError(str(exc), code=exc.code, permanent=exc.permanent) from exc
        return Receipt(provider_id=receipt.provider_id, segments=receipt.segments)

    def close(self) -> None:
        self.backend.close()
