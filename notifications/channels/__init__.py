"""Channels are plug-ins behind one small interface: open, send one message (or a batch),
close.

A sender keeps one channel open for a whole batch so connections (SMTP, HTTP keep-alive) are
reused. `NOTIFICATION_CHANNELS` in settings maps each channel name to its class."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: int
    to: str
    subject: str
    text: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """The provider accepted the message: its id for it, and what it cost."""

    provider_id: str
    segments: int = 0


class SendError(Exception):
    """The provider refused or could not be reached. `permanent`: no retry can help."""

    def __init__(self, reason: str, *, code: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.permanent = permanent


class BaseChannel:
    name: str

    @property
    def configured(self) -> bool:
        return True

    def open(self) -> None:
        """Connect before a batch."""

    def send(self, message: OutgoingMessage) -> Receipt:
        raise NotImplementedError

    def send_many(
        self, messages: Sequence[OutgoingMessage], *, pace: Callable[[], None]
    ) -> list[Receipt | SendError]:
        """Each message's answer, in order: the provider's receipt, or why it was not taken.
        `pace` is called before each message leaves (the channel's rate limit). A channel
        whose protocol can overlap messages overrides this."""
        answers: list[Receipt | SendError] = []
        for message in messages:
            pace()
            try:
                answers.append(self.send(message))
            except SendError as error:
                answers.append(error)
        return answers

    def close(self) -> None:
        """Release connections after a batch."""


def get_channel(name: str) -> BaseChannel:
    channel: BaseChannel = import_string(settings.NOTIFICATION_CHANNELS[name])()
    return channel
