"""Loaded into a worker with `--include tests.faults.poison` by the poisoned-delivery scenario:
the pool child that tries to email FAULTS_POISON_ADDRESS dies on the spot, as a child hitting
a crashing C extension or the OOM killer on one message would. It dies just before the
message would leave, whether it goes alone or in a pipelined batch (after the batch's
earlier messages)."""

import os
import signal
import smtplib
from collections.abc import Callable, Iterator, Sequence

from core.channels import OutgoingMessage, Receipt, email
from core.channels.email import EmailChannel

_send = EmailChannel.send
_sendmail_pipelined = email.sendmail_pipelined


def _crash_if_poisoned(to: str) -> None:
    if to == os.environ.get("FAULTS_POISON_ADDRESS"):
        os.kill(os.getpid(), signal.SIGKILL)


def _send_or_crash(self: EmailChannel, message: OutgoingMessage) -> Receipt:
    _crash_if_poisoned(message.to)
    return _send(self, message)


def _sendmail_pipelined_or_crash(
    smtp: smtplib.SMTP,
    sender: str,
    envelopes: Sequence[tuple[str, bytes]],
    *,
    pace: Callable[[], None] = lambda: None,
) -> Iterator[smtplib.SMTPException | None]:
    recipients = iter([to for to, _ in envelopes])

    def pace_or_crash() -> None:
        # Called before each envelope leaves, in order.
        _crash_if_poisoned(next(recipients))
        pace()

    return _sendmail_pipelined(smtp, sender, envelopes, pace=pace_or_crash)


EmailChannel.send = _send_or_crash  # type: ignore[method-assign]
email.sendmail_pipelined = _sendmail_pipelined_or_crash
