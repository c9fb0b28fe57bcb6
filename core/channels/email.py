import contextlib
import functools
import re
import smtplib
from collections.abc import Callable, Iterator, Sequence
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from core.channels import BaseChannel, OutgoingMessage, Receipt, SendError, mime


class EmailChannel(BaseChannel):
    """Email through Django's default mailer (SMTP in production), one connection per batch.

    Over Django's SMTP backend an alert email is built by `mime.build` and written to the
    backend's connection; other backends (anymail providers, the outbox) get an
    EmailMessage. SMTP's 250 reply is the provider's answer; our Message-ID is the id
    receipts refer to."""

    name = "email"

    def __init__(self) -> None:
        self.connection: BaseEmailBackend = mailers.default

    @property
    def configured(self) -> bool:
        return not type(self.connection).__module__.endswith(".dummy")

    def open(self) -> None:
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(type(exc).__name__, code="connect", permanent=False) from exc

    def send(self, message: OutgoingMessage) -> Receipt:
        message_id = _message_id(message)
        backend = self.connection
        if isinstance(backend, SmtpBackend):
            raw = _raw(message, message_id)
            if raw is not None:
                with self._provider_answer():
                    self._send_raw(backend, message.to, raw)
                return Receipt(provider_id=message_id)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={**message.headers, "Message-ID": message_id},
            connection=self.connection,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        # An anymail provider tags the message with our id; its receipts carry it back.
        email.metadata = {"delivery_id": message.reference}  # type: ignore[attr-defined]
        with self._provider_answer():
            sent = self.connection.send_messages([email])
        if not sent:
            raise SendError("not accepted", code="not_sent", permanent=False)
        # An anymail provider answers with its own id, which its receipts name; over SMTP the
        # 250 reply is the answer and our Message-ID the id.
        status = getattr(email, "anymail_status", None)
        if status is not None and status.message_id is not None:
            return Receipt(provider_id=str(status.message_id))
        return Receipt(provider_id=message_id)

    def send_many(
        self, messages: Sequence[OutgoingMessage], *, pace: Callable[[], None]
    ) -> list[Receipt | SendError]:
        """Over an SMTP server that offers PIPELINING, alert emails leave back to back: each
        message's content goes in the same write as the next one's envelope (one round trip
        a message instead of two). Anything else goes one message at a time."""
        backend = self.connection
        if not isinstance(backend, SmtpBackend):
            return super().send_many(messages, pace=pace)
        try:
            smtp = self._smtp(backend)
        except (OSError, smtplib.SMTPException) as exc:
            self._reset()
            error = _send_error(exc)
            return [error for _ in messages]
        if not smtp.has_extn("pipelining"):
            return super().send_many(messages, pace=pace)
        answers: dict[int, Receipt | SendError] = {}
        pipelined: list[tuple[int, str, bytes, str]] = []
        one_by_one: list[int] = []
        for index, message in enumerate(messages):
            message_id = _message_id(message)
            raw = _raw(message, message_id) if _PLAIN_ADDRESS.fullmatch(message.to) else None
            if raw is None:
                one_by_one.append(index)
            else:
                pipelined.append((index, message.to, raw, message_id))
        position = 0
        while position < len(pipelined):
            try:
                outcomes = sendmail_pipelined(
                    self._smtp(backend),
                    _envelope_sender(settings.DEFAULT_FROM_EMAIL),
                    [(to, raw) for _, to, raw, _ in pipelined[position:]],
                    pace=pace,
                )
                for refusal in outcomes:
                    index, _, _, message_id = pipelined[position]
                    position += 1
                    answers[index] = (
                        Receipt(provider_id=message_id) if refusal is None else _send_error(refusal)
                    )
            except (OSError, smtplib.SMTPException) as exc:
                # The session is in an unknown state: this message failed, the rest go on
                # over a new connection.
                self._reset()
                answers[pipelined[position][0]] = _send_error(exc)
                position += 1
        for index, answer in zip(
            one_by_one,
            super().send_many([messages[index] for index in one_by_one], pace=pace),
            strict=True,
        ):
            answers[index] = answer
        return [answers[index] for index in range(len(messages))]

    @staticmethod
    def _smtp(backend: SmtpBackend) -> smtplib.SMTP:
        """The backend's open connection (opened if need be), greeted."""
        if backend.connection is None:
            backend.open()
        smtp = backend.connection
        if smtp is None:
            raise smtplib.SMTPServerDisconnected("no SMTP connection")
        smtp.ehlo_or_helo_if_needed()
        return smtp

    @classmethod
    def _send_raw(cls, backend: SmtpBackend, to: str, raw: bytes) -> None:
        """Hand prebuilt bytes to the SMTP backend's open connection (opened if need be)."""
        smtp = cls._smtp(backend)
        sender = _envelope_sender(settings.DEFAULT_FROM_EMAIL)
        if smtp.has_extn("pipelining") and _PLAIN_ADDRESS.fullmatch(to):
            [refusal] = sendmail_pipelined(smtp, sender, [(to, raw)])
            if refusal is not None:
                raise refusal
        else:
            smtp.sendmail(sender, [to], raw)

    @contextlib.contextmanager
    def _provider_answer(self) -> Iterator[None]:
        """The SMTP server's refusals as SendErrors; a refused message ends its connection
        (it may be unusable), a refused recipient does not."""
        try:
            yield
        except smtplib.SMTPRecipientsRefused as exc:
            raise _send_error(exc) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._reset()
            raise _send_error(exc) from exc

    def _reset(self) -> None:
        """A failed transaction may leave the connection unusable: start the next one fresh."""
        self.connection.close()

    def close(self) -> None:
        self.connection.close()


@functools.lru_cache(maxsize=8)
def _envelope_sender(from_email: str) -> str:
    return parseaddr(from_email)[1]


# An address written into an SMTP command as it is: no spaces, angle brackets or line breaks.
_PLAIN_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")
_LEADING_PERIOD = re.compile(rb"(?m)^\.")


def _message_id(message: OutgoingMessage) -> str:
    return make_msgid(idstring=message.reference, domain="consular.invalid")


def _raw(message: OutgoingMessage, message_id: str) -> bytes | None:
    return mime.build(
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.to,
        subject=message.subject,
        text=message.text,
        html=message.html,
        headers=message.headers,
        message_id=message_id,
    )


def _send_error(exc: Exception) -> SendError:
    """What an SMTP exchange's failure means for the message: a 5xx answer is permanent,
    anything else (4xx, the network) worth another attempt."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = next(iter(exc.recipients.values()))[0]
        return SendError("recipient refused", code=str(code), permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendError("server refused", code=str(exc.smtp_code), permanent=exc.smtp_code >= 500)
    return SendError(type(exc).__name__, code="network", permanent=False)


def _envelope(sender: str, to: str) -> bytes:
    return f"MAIL FROM:<{sender}>\r\nRCPT TO:<{to}>\r\nDATA\r\n".encode("ascii")


def sendmail_pipelined(
    smtp: smtplib.SMTP,
    sender: str,
    envelopes: Sequence[tuple[str, bytes]],
    *,
    pace: Callable[[], None] = lambda: None,
) -> Iterator[smtplib.SMTPException | None]:
    """`smtp.sendmail(sender, [to], raw)` for each (to, raw), over a server that offers
    PIPELINING (RFC 2920, as real relays do). MAIL, RCPT and DATA leave in one write; the
    message's content then leaves with the next message's MAIL, RCPT and DATA, which RFC 2920
    allows, so each message costs one round trip.

    Yields, message by message, None when the server took it, or the refusal `sendmail`
    would have raised (the session goes on). Raises when the session cannot go on: the
    network failed, or the server would read what comes next as a message. `pace` is called
    before each message's envelope leaves."""
    if not envelopes:
        return
    pace()
    smtp.send(_envelope(sender, envelopes[0][0]))
    for position, (to, raw) in enumerate(envelopes):
        (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = (
            smtp.getreply(),
            smtp.getreply(),
            smtp.getreply(),
        )
        if data_code == 354 and (mail_code != 250 or rcpt_code not in (250, 251)):
            raise smtplib.SMTPDataError(data_code, b"DATA accepted after a refused envelope")
        following = b""
        if position + 1 < len(envelopes):
            pace()
            following = _envelope(sender, envelopes[position + 1][0])
        refusal: smtplib.SMTPException | None = None
        if mail_code != 250:
            refusal = smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
        elif rcpt_code not in (250, 251):
            refusal = smtplib.SMTPRecipientsRefused({to: (rcpt_code, rcpt_reply)})
        elif data_code != 354:
            refusal = smtplib.SMTPDataError(data_code, data_reply)
        if refusal is not None:
            # No message was opened: end the transaction, and go on with the next envelope.
            smtp.send(b"RSET\r\n" + following)
            code, reply = smtp.getreply()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)
            yield refusal
            continue
        body = _LEADING_PERIOD.sub(b"..", raw)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body + b".\r\n" + following)
        code, reply = smtp.getreply()
        yield None if code == 250 else smtplib.SMTPDataError(code, reply)
