"""The channels alerts go through: email through Django's mailer (its backend is the email
provider, `MAILERS`), SMS through the configured SMS provider (`SMS_BACKEND`, see `core.sms`).
Both speak `core.channels`' interface."""

from collections.abc import Callable

from core import sms
from core.channels import BaseChannel
from core.channels.email import EmailChannel

CHANNELS: dict[str, Callable[[], BaseChannel]] = {"email": EmailChannel, "sms": sms.get_backend}


def get_channel(name: str) -> BaseChannel:
    return CHANNELS[name]()
