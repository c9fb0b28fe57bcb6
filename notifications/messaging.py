"""Alerts that carry their own texts: safety checks, reminders, a message to one citizen.

They go through the same ledger, fan-out and sending path as level-change alerts; only who
receives them and what they say differ. Texts are stored per language on the alert and the
personal parts are filled in per message, like the level-change renderer does."""

import uuid
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.utils import timezone
from django.utils.html import linebreaks, urlize

from accounts.models import User
from core.exceptions import ValidationFailed
from notifications.channels import OutgoingMessage
from notifications.messages import AlertRenderer, unsubscribe_url
from notifications.models import Alert, Channel
from regions.selectors import regions_of_country
from registrations.models import Citizen
from registrations.selectors import (
    CitizenContact,
    citizens_present_in_regions,
    emergency_contacts,
)

RESPONSE_SALT = "notifications.response"
# Placeholders a message text may hold; filled in per recipient.
NAME, RESPONSE_URL, MANAGE_URL = "{name}", "{response_url}", "{manage_url}"
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class MessageTexts:
    """What a message says in one language. `text` is the email body, `sms` the text message."""

    subject: str
    text: str
    sms: str


def response_token(*, alert_id: uuid.UUID | str, citizen_id: uuid.UUID | str) -> str:
    return signing.dumps([str(alert_id), str(citizen_id)], salt=RESPONSE_SALT, compress=True)


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
) -> Alert:
    """An alert with its own texts, to the people present in the regions or to the named
    citizens (or their emergency contacts); fanned out and sent like any other alert."""
    from notifications.tasks import fan_out_alert

    if set(texts) != set(LANGUAGES):
        raise ValidationFailed("A message needs its English and French texts.", field="texts")
    if bool(region_codes) == bool(citizen_ids):
        raise ValidationFailed("Name either regions or citizens.", field="citizen_ids")
    if response_url_template and "{token}" not in response_url_template:
        raise ValidationFailed("The link has no {token}.", field="response_url_template")
    with transaction.atomic():
        alert = Alert.objects.create(
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
        )
        alert_id = str(alert.id)
        transaction.on_commit(lambda: fan_out_alert.delay(alert_id))
    return alert


# The columns of a recipient that the ledger's INSERT ... SELECT reads.
RECIPIENT_COLUMNS = (
    "id",
    "language",
    "notify_by_email",
    "notify_by_sms",
    "email_verified_at",
    "phone_verified_at",
    "matched_region_code",
)


def message_recipients(alert: Alert) -> tuple[str, tuple[Any, ...]]:
    """SQL (with its parameters) of a message alert's recipients, in RECIPIENT_COLUMNS."""
    columns = RECIPIENT_COLUMNS
    if not alert.citizen_ids:
        recipients = citizens_present_in_regions(
            country_code=alert.country_id,
            region_codes=regions_reached(alert),
            on_date=timezone.localdate(),
            lookahead_days=settings.ALERT_LOOKAHEAD_DAYS,
        )
    else:
        recipients = Citizen.objects.filter(id__in=alert.citizen_ids).annotate(
            matched_region_code=Value(None, output_field=CharField())
        )
    if alert.audience == Alert.Audience.EMERGENCY_CONTACTS:
        # The contact's addresses are the ones given, not verified: present them as such.
        sql, params = (
            recipients.annotate(
                has_email=~Q(emergency_contact_email=""),
                has_phone=~Q(emergency_contact_phone=""),
            )
            .values("id", "language", "has_email", "has_phone", "created_at", "matched_region_code")
            .query.sql_with_params()
        )
        return (
            f"SELECT q.id, q.language, q.has_email AS notify_by_email, "  # noqa: S608
            f"q.has_phone AS notify_by_sms, q.created_at AS email_verified_at, "
            f"q.created_at AS phone_verified_at, q.matched_region_code FROM ({sql}) q",
            params,
        )
    sql, params = recipients.values(*columns).query.sql_with_params()
    return sql, params


def regions_reached(alert: Alert) -> list[str]:
    """The regions whose people an alert reaches. A staff message to a region reaches its
    nested subdivisions too (as a level set on a region applies to them), and one that names
    no region reaches the whole country."""
    if alert.kind != Alert.Kind.STAFF_MESSAGE:
        return list(alert.region_codes)
    parents = dict(
        regions_of_country(country_code=alert.country_id).values_list("code", "parent_id")
    )
    if not alert.region_codes:
        return sorted(parents)
    reached = set(alert.region_codes)
    grown = True
    while grown:
        children = {code for code, parent in parents.items() if parent in reached}
        grown = not children <= reached
        reached |= children
    return sorted(reached)


class Renderer(Protocol):
    def contact(self, contact: CitizenContact) -> CitizenContact | None: ...

    def message(
        self, *, delivery_id: int, channel: str, region_code: str, contact: CitizenContact
    ) -> OutgoingMessage: ...


class MessageRenderer:
    """Renders a message alert for one recipient; `renderer_for` keeps one per alert."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.emergency: dict[uuid.UUID, CitizenContact] | None = None
        if alert.audience == Alert.Audience.EMERGENCY_CONTACTS:
            self.emergency = emergency_contacts(
                citizen_ids=[uuid.UUID(citizen_id) for citizen_id in alert.citizen_ids]
            )

    def contact(self, contact: CitizenContact) -> CitizenContact | None:
        """Whom the row's message goes to: the citizen, or the contact they gave."""
        if self.emergency is None:
            return contact
        return self.emergency.get(contact.citizen_id)

    def message(
        self, *, delivery_id: int, channel: str, region_code: str, contact: CitizenContact
    ) -> OutgoingMessage:
        texts = self.alert.texts.get(contact.language) or self.alert.texts["en"]
        response_url = ""
        if self.alert.response_url_template:
            token = response_token(alert_id=self.alert.id, citizen_id=contact.citizen_id)
            response_url = self.alert.response_url_template.replace("{token}", token)

        def personal(text: str) -> str:
            return (
                text.replace(NAME, contact.given_name)
                .replace(RESPONSE_URL, response_url)
                .replace(MANAGE_URL, contact.manage_url)
            )

        if channel == Channel.SMS:
            return OutgoingMessage(
                reference=str(delivery_id),
                to=contact.phone,
                subject="",
                text=" ".join(personal(texts["sms"]).split()),
            )
        text = personal(texts["text"])
        headers = {"X-Consular-Delivery": str(delivery_id)}
        if self.emergency is None:
            unsubscribe = unsubscribe_url(citizen_id=str(contact.citizen_id), channel=channel)
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return OutgoingMessage(
            reference=str(delivery_id),
            to=contact.email,
            subject=personal(texts["subject"]),
            text=text,
            html=linebreaks(urlize(text, autoescape=True), autoescape=False),
            headers=headers,
        )


class _LevelChangeRenderer(AlertRenderer):
    def contact(self, contact: CitizenContact) -> CitizenContact | None:
        return contact


# An alert renders the same for every batch of its deliveries (per channel, language and
# region), so a worker keeps the renderers of the alerts it sent lately rather than rendering
# again for each task. Keyed by the alert's last change too: an edited alert renders anew.
_RECENT_RENDERERS: OrderedDict[tuple[uuid.UUID, object], Renderer] = OrderedDict()
_RECENT_RENDERERS_MAX = 8


def renderer_for(alert: Alert) -> Renderer:
    key = (alert.id, alert.updated_at)
    renderer = _RECENT_RENDERERS.get(key)
    if renderer is not None:
        _RECENT_RENDERERS.move_to_end(key)
        return renderer
    if alert.kind in (Alert.Kind.MESSAGE, Alert.Kind.STAFF_MESSAGE):
        renderer = MessageRenderer(alert)
    else:
        renderer = _LevelChangeRenderer(alert)
    _RECENT_RENDERERS[key] = renderer
    while len(_RECENT_RENDERERS) > _RECENT_RENDERERS_MAX:
        _RECENT_RENDERERS.popitem(last=False)
    return renderer
