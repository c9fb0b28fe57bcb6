"""How a message leaves: the transport vocabulary shared by the SMS providers (`core.sms`) and
the email channel (`core.channels.email`).

A channel is a plug-in behind one small interface: open, send one message (or a batch),
close. A sender keeps one channel open for a whole batch so connections (SMTP, HTTP
keep-alive) are reused."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    # Our id for the message, echoed back by providers in their receipts: a delivery's id for
    # an alert, a random idempotency key for a verification code, a kind of message for the
    # emails nothing tracks.
    reference: str
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
    # What the channel or provider is called; an SMS provider's name is its segment in the
    # webhook URLs.
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
