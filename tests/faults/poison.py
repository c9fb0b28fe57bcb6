"""Loaded into a worker with `--include tests.faults.poison` by the poisoned-delivery scenario:
the pool child that tries to email FAULTS_POISON_ADDRESS dies on the spot, as a child hitting
a crashing C extension or the OOM killer on one message would."""

import os
import signal

from notifications.channels import OutgoingMessage, Receipt
from notifications.channels.email import EmailChannel

_send = EmailChannel.send


def _send_or_crash(self: EmailChannel, message: OutgoingMessage) -> Receipt:
    if message.to == os.environ.get("FAULTS_POISON_ADDRESS"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _send(self, message)


EmailChannel.send = _send_or_crash  # type: ignore[method-assign]
