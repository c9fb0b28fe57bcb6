"""Channels a citizen must not be sent on: they opted out (STOP, an unsubscribe link), the
address bounced, or they marked our email as spam. The fan-out and the hand-off both skip
them."""

import uuid

from notifications.models import Suppression


def suppression_add(*, citizen_id: uuid.UUID | str, channel: str, reason: str) -> bool:
    """Stop using the channel for the citizen; adding it twice changes nothing. Returns whether
    the channel was in use until now."""
    _suppression, created = Suppression.objects.get_or_create(
        citizen_id=citizen_id, channel=channel, defaults={"reason": reason}
    )
    return created


def suppression_lift(*, citizen_id: uuid.UUID | str, channel: str) -> bool:
    """START: the citizen wants the channel again (a hard bounce stays until fixed). Returns
    whether an opt-out was lifted."""
    deleted, _by_model = Suppression.objects.filter(
        citizen_id=citizen_id, channel=channel, reason=Suppression.Reason.OPT_OUT
    ).delete()
    return deleted > 0
