import contextlib
import functools
import re
import smtplib
from collections.abc import Iterator
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from notifications.channels import BaseChannel, OutgoingMessage, Receipt, SendError, mime


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
        message_id = make_msgid(idstring=str(message.delivery_id), domain="consular.invalid")
        backend = self.connection
        if isinstance(backend, SmtpBackend):
            raw = mime.build(
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=message.to,
                subject=message.subject,
                text=message.text,
                html=message.html,
                headers=message.headers,
                message_id=message_id,
            )
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
        email.metadata = {"delivery_id": str(message.delivery_id)}  # type: ignore[attr-defined]
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

    @staticmethod
    def _send_raw(backend: SmtpBackend, to: str, raw: bytes) -> None:
        """Hand prebuilt bytes to the SMTP backend's open connection (opened if need be)."""
        if backend.connection is None:
            backend.open()
        smtp = backend.connection
        if smtp is None:
            raise SendError("no SMTP connection", code="connect", permanent=False)
        smtp.ehlo_or_helo_if_needed()
        sender = _envelope_sender(settings.DEFAULT_FROM_EMAIL)
        if smtp.has_extn("pipelining") and _PLAIN_ADDRESS.fullmatch(to):
            sendmail_pipelined(smtp, sender, to, raw)
        else:
            smtp.sendmail(sender, [to], raw)

    @contextlib.contextmanager
    def _provider_answer(self) -> Iterator[None]:
        """The SMTP server's refusals as SendErrors: 5xx is permanent, the rest transient."""
        try:
            yield
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise SendError("recipient refused", code=str(code), permanent=code >= 500) from exc
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise SendError(
                "server refused", code=str(exc.smtp_code), permanent=exc.smtp_code >= 500
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._reset()
            raise SendError(type(exc).__name__, code="network", permanent=False) from exc

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


def sendmail_pipelined(smtp: smtplib.SMTP, sender: str, to: str, raw: bytes) -> None:
    """`smtp.sendmail(sender, [to], raw)` for a server that offers PIPELINING (RFC 2920, as
    real relays do): MAIL, RCPT and DATA leave in one write and the message in a second, so a
    message costs two round trips instead of four. Raises what `sendmail` raises."""
    smtp.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{to}>\r\nDATA\r\n".encode("ascii"))
    (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = (
        smtp.getreply(),
        smtp.getreply(),
        smtp.getreply(),
    )
    if data_code == 354 and (mail_code != 250 or rcpt_code not in (250, 251)):
        # The server would read whatever we send next as the message: give up this
        # connection (a response error makes the channel open a new one).
        raise smtplib.SMTPDataError(data_code, b"DATA accepted after a refused envelope")
    if mail_code != 250:
        smtp.rset()
        raise smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
    if rcpt_code not in (250, 251):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused({to: (rcpt_code, rcpt_reply)})
    if data_code != 354:
        smtp.rset()
        raise smtplib.SMTPDataError(data_code, data_reply)
    body = _LEADING_PERIOD.sub(b"..", raw)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
