from core import sms


class SmsBackend(sms.BaseSmsBackend):
    """The production default: no provider was configured, so nothing can be sent. Every send
    fails loudly (and /healthz says so) instead of marking a message sent."""

    configured = False

    def send(self, message: sms.SmsMessage) -> sms.SmsReceipt:
        raise sms.SmsNotConfigured
