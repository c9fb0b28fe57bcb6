"""Alerts: made from a published advisory (the levels or the advice it changed) or from texts
staff or the cases app wrote, then fanned out and sent through the ledger like any other;
cancelled, or their failed rows tried again, by the post's officers.

Staff messages, which need a second person's approval, are in `staff_messages`."""

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.permissions import require_role
from advisories.events import RiskLevelChanged
from core.audit import Action, audit_record
from core.exceptions import Conflict, ValidationFailed
from notifications import queue
from notifications.ledger import lease_end
from notifications.models import Alert, Delivery
from notifications.recipients import level_change_alert
from notifications.sending import deliveries_enqueue

# The languages a message is written in: each recipient reads it in theirs. Read once, as
# the admin's and the API's forms are built from it.
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
# Who cancels an alert or sends its failed rows again: the post's consular staff, whose work
# the deliveries are (editors and approvers write advisories, not to citizens).
ALERT_OPERATOR_ROLES = (Membership.Role.OFFICER, Membership.Role.ADMIN)


@dataclass(frozen=True)
class MessageTexts:
    """What a message says in one language. `text` is the email body, `sms` the text message."""

    subject: str
    text: str
    sms: str


def alert_create_for_level_change(*, event: RiskLevelChanged) -> Alert:
    """The alert of one publication (see `recipients.level_change_alert`); the same event
    twice finds the alert it created."""
    planned = level_change_alert(event)
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(
            kind=Alert.Kind.LEVEL_CHANGE,
            advisory_id=event.advisory_id,
            defaults={
                "country_id": planned.country_id,
                "changes": planned.changes,
                "region_codes": planned.region_codes,
            },
        )
        if created:
            queue.fan_out_after_commit(alert_id=str(alert.id))
    return alert


def message_alert_create(
    *,
    country_code: str,
    texts: Mapping[str, MessageTexts],
    created_by: User | None = None,
    region_codes: Collection[str] = (),
    citizen_ids: Collection[uuid.UUID | str] = (),
    audience: str = Alert.Audience.CITIZENS,
    send_email: bool = True,
    send_sms: bool = True,
    response_url_template: str = "",
    confirms_opt_out: bool = False,
    alert_id: uuid.UUID | None = None,
) -> Alert:
    """An alert with its own texts, to the people present in the regions or to the named
    citizens (or their emergency contacts); fanned out and sent like any other alert.
    `alert_id` is for a caller that stores what the message will carry before it exists (the
    `{reference}` of `rendering.message_reference` is derived from it).
    `confirms_opt_out` is for the text confirming an opt-out, which the opt-out must not stop
    (`replies`); the database refuses it on any other kind of message."""
    if set(texts) != set(LANGUAGES):
        raise ValidationFailed("A message needs its texts in every language.", field="texts")
    if bool(region_codes) == bool(citizen_ids):
        raise ValidationFailed("Name either regions or citizens.", field="citizen_ids")
    if response_url_template and "{token}" not in response_url_template:
        raise ValidationFailed("The link has no {token}.", field="response_url_template")
    with transaction.atomic():
        alert = Alert.objects.create(
            id=alert_id or uuid.uuid4(),
            kind=Alert.Kind.MESSAGE,
            country_id=country_code.upper(),
            region_codes=sorted(region_codes),
            citizen_ids=sorted(str(citizen_id) for citizen_id in citizen_ids),
            audience=audience,
            send_email=send_email,
            send_sms=send_sms,
            texts={
                language: {"subject": t.subject, "text": t.text, "sms": t.sms}
                for language, t in texts.items()
            },
            response_url_template=response_url_template,
            created_by=created_by,
            confirms_opt_out=confirms_opt_out,
        )
        queue.fan_out_after_commit(alert_id=str(alert.id))
    return alert


def _require_alert_operator(*, user: User, alert: Alert) -> None:
    require_role(
        user=user,
        roles=ALERT_OPERATOR_ROLES,
        country_code=alert.country_id,
        message=_("Only the officers of a post covering this country can act on its alerts."),
    )


def alert_cancel(*, alert: Alert, cancelled_by: User) -> Alert:
    """Stop an alert: rows not yet handed off are cancelled; what left stays as it is. A staff
    message still in draft or awaiting approval is simply never sent. Officers (and post
    administrators) of a post covering the country only."""
    _require_alert_operator(user=cancelled_by, alert=alert)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(id=alert.id)
        if alert.state in (Alert.State.DONE, Alert.State.CANCELLED):
            raise Conflict(_("This alert has finished already."), field="state")
        now = timezone.now()
        Delivery.objects.filter(alert=alert, status=Delivery.Status.PENDING).update(
            status=Delivery.Status.CANCELLED, finished_at=now
        )
        alert.state, alert.finished_at = Alert.State.CANCELLED, now
        alert.save(update_fields=["state", "finished_at", "updated_at"])
        audit_record(
            actor=cancelled_by,
            action=Action.CHANGE,
            obj=alert,
            detail={"step": "cancel", "country": alert.country_id},
        )
    return alert


def alert_resend_failed(*, alert: Alert, actor: User) -> int:
    """Give the failed rows of an alert a new round of attempts. Officers (and post
    administrators) of a post covering the country only."""
    _require_alert_operator(user=actor, alert=alert)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(id=alert.id)
        if alert.state == Alert.State.CANCELLED:
            raise Conflict(_("This alert was cancelled."), field="state")
        now = timezone.now()
        count = Delivery.objects.filter(alert=alert, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            lease_expires_at=lease_end(now),
            finished_at=None,
        )
        if count:
            alert.state, alert.finished_at = Alert.State.SENDING, None
            alert.save(update_fields=["state", "finished_at", "updated_at"])
            transaction.on_commit(lambda: deliveries_enqueue(alert_id=str(alert.id)))
    return count
