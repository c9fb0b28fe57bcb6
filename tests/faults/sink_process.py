"""The fault suite's sinks, run in a process of their own (spawned: it needs no Django)."""

import signal
from dataclasses import dataclass
from typing import Any

from bench.sinks import SmsFaults, SmtpFaults, sms_sink, smtp_sink


@dataclass
class SinkLog:
    """What the providers saw: every transaction (id, answer code, time) and the messages
    they accepted (by delivery id; SMS after the provider's idempotency)."""

    email_transactions: list[tuple[str, int, float]]
    sms_transactions: list[tuple[str, int, float]]
    email_accepted: list[str]
    sms_accepted: list[str]


def serve(
    smtp_faults: SmtpFaults, sms_faults: SmsFaults, ports: Any, accepted: Any, stop: Any, out: Any
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with (
        smtp_sink(keep_content=False, faults=smtp_faults) as smtp,
        sms_sink(faults=sms_faults) as sms,
    ):
        ports.put((smtp.port, sms.url))
        while not stop.wait(0.1):
            accepted.value = len(smtp.messages) + len(sms.messages)
        out.send(
            SinkLog(
                email_transactions=list(smtp.transactions),
                sms_transactions=list(sms.transactions),
                email_accepted=smtp.delivery_ids(),
                sms_accepted=sms.references(),
            )
        )
