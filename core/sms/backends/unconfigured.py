from core import sms
from core.channels import OutgoingMessage, Receipt


class SmsBackend(sms.SmsProvider):
    """The production default: no provider was configured, so nothing can be sent. Every send
    fails loudly (and /healthz says so) instead of marking a message sent."""

    name = "unconfigured"

    @property
    def configured(self) -> bool:
        return False

    def send(self, message: OutgoingMessage) -> Receipt:
        raise sms.not_configured()
