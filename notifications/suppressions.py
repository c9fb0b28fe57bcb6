"""Channels a citizen must not be sent on: they opted out (STOP, an unsubscribe link), the
address bounced, or they marked our email as spam. The fan-out and the hand-off both skip
them."""

import uuid

from notifications.models import Suppression


def suppression_add(*, citizen_id: uuid.UUID | str, channel: str, reason: str) -> None:
    """Stop using the channel for the citizen; adding it twice changes nothing."""
    Suppression.objects.get_or_create(
        citizen_id=citizen_id, channel=channel, defaults={"reason": reason}
    )


def suppression_lift(*, citizen_id: uuid.UUID | str, channel: str) -> None:
    """START: the citizen wants the channel again (a hard bounce stays until fixed)."""
    Suppression.objects.filter(
        citizen_id=citizen_id, channel=channel, reason=Suppression.Reason.OPT_OUT
    ).delete()
