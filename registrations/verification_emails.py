"""The verification emails: marked due on the citizen's row, sent in batches.

A registration in a surge must not pay for its email. The row is stored with the email due
(`email_verification_due_at`, in the same INSERT), so a 201 means the email will go without
waiting on the broker; after the commit, a kick enqueues one sending task for all the rows due
a second later, unless one is already queued (a key in the cache says so). The task sends them
through the email channel (`core.channels.email`: one connection a batch, pipelined over SMTP),
in batches locked with SKIP LOCKED so two workers never send the same row, and clears each row
it sent or the server refused for good. Beat runs the same task every
`VERIFICATION_EMAIL_SWEEP_SECONDS`, so a kick that was lost (a broker down at that moment, a
worker dying mid-batch) delays an email and never loses it; a crash between the SMTP server's
acceptance and the row's update sends that email twice, never zero times.
"""

import logging
import uuid
from collections.abc import Sequence

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import queue
from core.cache_client import redis_client
from core.channels import OutgoingMessage, SendError
from core.channels.email import EmailChannel
from registrations import tokens
from registrations.emails import citizen_email_text
from registrations.models import Citizen

SEND_DUE_VERIFICATION_EMAILS = "registrations.tasks.send_due_verification_emails"
BATCH = 100
# A task sends at most this many before handing over to a fresh one, so a long surge does not
# hold a worker away from the alerts.
PER_TASK = 2000
# A kicked task waits this long, so that in a surge it finds the rows of many registrations and
# sends them over one connection (a task and a connection for each would cost the worker more
# than the email). A second is nothing to someone opening their mailbox.
GATHER_SECONDS = 1.0
# How long a kick stands for the task it enqueued. The task clears it as it starts; a kick whose
# task never ran (a failed enqueue) stops hiding the rows due once it expires.
KICK_KEY = "registrations:verification-emails-kick"
KICK_SECONDS = 10

logger = logging.getLogger(__name__)


def verification_emails_kick() -> None:
    """Enqueue the sending task unless one is queued and not yet started. (With a cache of
    each process's own, as in development, the worker cannot clear the web's kick: it stands
    its `KICK_SECONDS`, and the sweep sends what it hid.)"""
    client = redis_client()
    if client is not None:
        # One round trip on every registration; Django's cache API would build a client for it.
        key = cache.make_and_validate_key(KICK_KEY)
        kicked = bool(client.set(key, 1, nx=True, ex=KICK_SECONDS))
    else:
        kicked = cache.add(KICK_KEY, 1, timeout=KICK_SECONDS)
    if kicked:
        queue.enqueue(SEND_DUE_VERIFICATION_EMAILS, countdown=GATHER_SECONDS)


def verification_email_due(*, citizen: Citizen) -> None:
    """Mark the citizen's verification email due, and kick the sender once the transaction
    commits."""
    # On the instance too, so that a later save of it in this request does not undo the mark.
    citizen.email_verification_due_at = timezone.now()
    Citizen.objects.filter(id=citizen.id).update(
        email_verification_due_at=citizen.email_verification_due_at
    )
    transaction.on_commit(verification_emails_kick)


def _message(citizen: Citizen) -> OutgoingMessage:
    subject, text = citizen_email_text(
        citizen,
        "verify_email",
        {
            "url": tokens.verify_email_url(citizen.id, citizen.email),
            "manage_url": tokens.manage_url(citizen.id),
        },
    )
    return OutgoingMessage(reference="verify-email", to=citizen.email, subject=subject, text=text)


def _send(citizens: Sequence[Citizen]) -> tuple[int, list[uuid.UUID], bool]:
    """Send each citizen's email through the email channel (one connection, pipelined over
    SMTP): how many were sent, the ids done with (sent, or refused for good) and whether
    every one was (False when the server failed: those stay due for the next run)."""
    channel = EmailChannel()
    try:
        channel.open()
        answers = channel.send_many([_message(citizen) for citizen in citizens], pace=_no_pace)
    except SendError:
        answers = []
    finally:
        channel.close()
    sent, done = 0, []
    for citizen, answer in zip(citizens, answers, strict=False):
        if isinstance(answer, SendError):
            if not answer.permanent:
                continue
            # The address itself was refused: sending again would be refused again.
            logger.warning(
                "verification email refused (%s) for citizen %s", answer.code, citizen.id
            )
        else:
            sent += 1
        done.append(citizen.id)
    if len(done) < len(citizens):
        logger.warning("verification emails not taken by the server; the sweep retries them")
    return sent, done, len(done) == len(citizens)


def _no_pace() -> None:
    """Verification emails are few and wanted at once: no rate limit."""


def verification_emails_send(*, batch: int = BATCH, limit: int = PER_TASK) -> int:
    """Send the verification emails due, oldest first; the number sent."""
    # Cleared before looking, so a row committed from now on is either seen by this task or
    # kicks a new one.
    cache.delete(KICK_KEY)
    total = 0
    while total < limit:
        with transaction.atomic():
            citizens = list(
                Citizen.objects.select_for_update(skip_locked=True)
                .filter(email_verification_due_at__isnull=False)
                .order_by("email_verification_due_at")
                .only("id", "email", "language", "given_name", "email_verified_at")[:batch]
            )
            if not citizens:
                return total
            # A citizen who verified since (with an earlier email's link) needs no other.
            verified = [citizen.id for citizen in citizens if citizen.email_verified_at]
            sent, done, complete = _send([c for c in citizens if not c.email_verified_at])
            Citizen.objects.filter(id__in=verified + done).update(email_verification_due_at=None)
        total += sent
        if not complete:
            return total
    verification_emails_kick()
    return total
