"""What an alert says to one person, in their language, for their region.

One renderer per kind of alert, both behind `renderer_for`:
- a level change renders the alert templates from the published advisory. Thousands of
  recipients share a language and a region, so each (channel, language, region) is rendered
  once with placeholders and only the personal parts (name, links) are filled in per message:
  rendering never becomes the bottleneck of a large fan-out;
- a message (a safety check, a reminder, a staff message, a message to one citizen) carries
  its texts per language on the alert, with `{name}`, `{response_url}` and `{manage_url}`
  filled in per message.

The signed links a message carries (unsubscribe, a safety check's answer) are made here too."""

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.template.loader import get_template, render_to_string
from django.urls import get_resolver
from django.utils import translation
from django.utils.html import escape, linebreaks, urlize

from accounts.selectors import posts_covering_country
from advisories.levels import level_name
from advisories.selectors import AdvisoryDigest, advisory_digest
from core.channels import OutgoingMessage
from core.links import token_url
from notifications.models import Alert, Channel
from regions.selectors import regions_of_country
from registrations.selectors import CitizenContact, emergency_contacts

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
RESPONSE_SALT = "notifications.response"

SUBJECT_TEMPLATE = "notifications/alert/email_subject.txt"
TEXT_TEMPLATE = "notifications/alert/email_body.txt"
HTML_TEMPLATE = "notifications/alert/email_body.html"
SMS_TEMPLATE = "notifications/alert/sms.txt"

# Placeholders of the level-change templates: they cannot occur in any template or advisory
# text.
_NAME, _MANAGE_URL, _UNSUBSCRIBE_URL = "\x00name\x00", "\x00manage\x00", "\x00unsubscribe\x00"
# Placeholders a message's texts may hold, as staff write them.
NAME, RESPONSE_URL, MANAGE_URL = "{name}", "{response_url}", "{manage_url}"


def unsubscribe_token(*, citizen_id: str, channel: str) -> str:
    return signing.dumps({"c": citizen_id, "ch": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, citizen_id: str, channel: str) -> str:
    token = unsubscribe_token(citizen_id=citizen_id, channel=channel)
    return token_url("notifications:unsubscribe", token)


def response_token(*, alert_id: uuid.UUID | str, citizen_id: uuid.UUID | str) -> str:
    return signing.dumps([str(alert_id), str(citizen_id)], salt=RESPONSE_SALT, compress=True)


def preload() -> None:
    """Load what rendering the first alert needs: the URL table links are reversed from, the
    alert templates and each language's catalogue. A worker's parent process calls it before
    forking its pool, so each child starts with them instead of loading them on its first
    alert, while the first messages of a crisis wait (docs/performance.md)."""
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            get_resolver().reverse_dict  # noqa: B018 - built for the active language on first use
    for name in (SUBJECT_TEMPLATE, TEXT_TEMPLATE, HTML_TEMPLATE, SMS_TEMPLATE):
        get_template(name)


class Renderer(Protocol):
    def contact(self, contact: CitizenContact) -> CitizenContact | None:
        """Whom the row's message goes to: the citizen, or someone they named."""

    def message(
        self, *, delivery_id: int, channel: str, region_code: str, contact: CitizenContact
    ) -> OutgoingMessage: ...


def _email_headers(*, delivery_id: int, unsubscribe: str) -> dict[str, str]:
    headers = {"X-Consular-Delivery": str(delivery_id)}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


@dataclass(frozen=True)
class _Rendered:
    subject: str
    text: str
    html: str


class LevelChangeRenderer:
    """Renders the messages of one level change from the alert templates."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.changes = {change["region_code"]: change for change in alert.changes}
        self.region_names: dict[tuple[str, str], str] = {}
        self.cache: dict[tuple[str, str, str], _Rendered] = {}
        # The advisory as each language tells it, read once: every region renders from it.
        self.digests: dict[str, AdvisoryDigest] = {}
        self.posts = list(posts_covering_country(country_code=alert.country_id))

    def contact(self, contact: CitizenContact) -> CitizenContact | None:
        return contact

    def message(
        self, *, delivery_id: int, channel: str, region_code: str, contact: CitizenContact
    ) -> OutgoingMessage:
        language = contact.language or "en"
        key = (channel, language, region_code)
        if key not in self.cache:
            self.cache[key] = self._render(
                channel=channel, language=language, region_code=region_code
            )
        rendered = self.cache[key]
        # Signing a link costs more than the rest of the message: only when it is used.
        unsubscribe = (
            unsubscribe_url(citizen_id=str(contact.citizen_id), channel=channel)
            if channel == Channel.EMAIL or _UNSUBSCRIBE_URL in rendered.text
            else ""
        )

        def personal(text: str, *, html: bool = False) -> str:
            fill = escape if html else str
            return (
                text.replace(_NAME, fill(contact.given_name))
                .replace(_MANAGE_URL, fill(contact.manage_url))
                .replace(_UNSUBSCRIBE_URL, fill(unsubscribe))
            )

        return OutgoingMessage(
            reference=str(delivery_id),
            to=contact.email if channel == Channel.EMAIL else contact.phone,
            subject=personal(rendered.subject),
            text=personal(rendered.text),
            html=personal(rendered.html, html=True),
            headers=(
                _email_headers(delivery_id=delivery_id, unsubscribe=unsubscribe)
                if channel == Channel.EMAIL
                else {}
            ),
        )

    def _region_name(self, region_code: str, language: str) -> str:
        if not self.region_names:
            for lang, _name in settings.LANGUAGES:
                with translation.override(lang):
                    for region in regions_of_country(country_code=self.alert.country_id):
                        self.region_names[(region.code, lang)] = region.name
        return self.region_names.get((region_code, language[:2]), region_code)

    def _render(self, *, channel: str, language: str, region_code: str) -> _Rendered:
        if language not in self.digests:
            self.digests[language] = advisory_digest(
                advisory_id=str(self.alert.advisory_id), language=language
            )
        digest = self.digests[language]
        change = self.changes.get(region_code)
        if change is None:
            # A presence somewhere in the country: speak of the country as a whole.
            region_name = digest.country_name
            new_level = digest.country_level
            old_level = None
        else:
            region_name = self._region_name(region_code, language)
            new_level = change["new_level"]
            old_level = change["old_level"]
        context = {
            "name": _NAME,
            "manage_url": _MANAGE_URL,
            "unsubscribe_url": _UNSUBSCRIBE_URL,
            "digest": digest,
            "region_name": region_name,
            "new_level": new_level,
            "new_level_name": level_name(level=new_level, language=language),
            "old_level": old_level,
            "old_level_name": level_name(level=old_level, language=language) if old_level else "",
            "posts": self.posts,
        }
        with translation.override(language):
            if channel == Channel.SMS:
                text = render_to_string(SMS_TEMPLATE, context).strip()
                return _Rendered(subject="", text=" ".join(text.split()), html="")
            return _Rendered(
                subject=" ".join(render_to_string(SUBJECT_TEMPLATE, context).split()),
                text=render_to_string(TEXT_TEMPLATE, context),
                html=render_to_string(HTML_TEMPLATE, context),
            )


class MessageRenderer:
    """Renders a message alert, from the texts it carries, for one recipient."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.emergency: dict[uuid.UUID, CitizenContact] | None = None
        if alert.audience == Alert.Audience.EMERGENCY_CONTACTS:
            self.emergency = emergency_contacts(
                citizen_ids=[uuid.UUID(citizen_id) for citizen_id in alert.citizen_ids]
            )

    def contact(self, contact: CitizenContact) -> CitizenContact | None:
        """The citizen, or the emergency contact they gave."""
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
        # An emergency contact never subscribed: there is nothing for them to leave.
        unsubscribe = (
            unsubscribe_url(citizen_id=str(contact.citizen_id), channel=channel)
            if self.emergency is None
            else ""
        )
        return OutgoingMessage(
            reference=str(delivery_id),
            to=contact.email,
            subject=personal(texts["subject"]),
            text=text,
            html=linebreaks(urlize(text, autoescape=True), autoescape=False),
            headers=_email_headers(delivery_id=delivery_id, unsubscribe=unsubscribe),
        )


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
        renderer = LevelChangeRenderer(alert)
    _RECENT_RENDERERS[key] = renderer
    while len(_RECENT_RENDERERS) > _RECENT_RENDERERS_MAX:
        _RECENT_RENDERERS.popitem(last=False)
    return renderer
