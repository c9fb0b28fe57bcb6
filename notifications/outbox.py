"""Development backends that keep every email and SMS in the database instead of sending it,
so a newcomer running `make run` can watch an alert arrive at /outbox/."""

from collections.abc import Sequence

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend

from core import sms
from core.channels import OutgoingMessage, Receipt
from notifications.models import Channel, OutboxMessage


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        rows: list[OutboxMessage] = []
        for message in email_messages:
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                html = next(
                    (
                        str(content)
                        for content, mimetype in message.alternatives
                        if mimetype == "text/html"
                    ),
                    "",
                )
            rows.extend(
                OutboxMessage(
                    channel=Channel.EMAIL,
                    to=recipient,
                    subject=str(message.subject)[:300],
                    body=str(message.body),
                    html=html,
                )
                for recipient in message.recipients()
            )
        OutboxMessage.objects.bulk_create(rows)
        return len(email_messages)


class SmsBackend(sms.SmsProvider):
    name = "outbox"

    def send(self, message: OutgoingMessage) -> Receipt:
        row = OutboxMessage.objects.create(channel=Channel.SMS, to=message.to, body=message.text)
        return Receipt(provider_id=f"outbox-{row.id}", segments=sms.segments(message.text))
