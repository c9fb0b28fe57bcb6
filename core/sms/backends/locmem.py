import itertools

from core import sms

_ids = itertools.count(1)


class SmsBackend(sms.BaseSmsBackend):
    """Keeps messages in `core.sms.outbox`; for tests."""

    def send(self, message: sms.SmsMessage) -> sms.SmsReceipt:
        sms.outbox.append(message)
        return sms.SmsReceipt(provider_id=f"locmem-{next(_ids)}")
