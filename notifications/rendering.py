"""What an alert says to one person, in their language, for their region.

One renderer per kind of alert, both behind `renderer_for`:
- a level change renders the alert templates from the published advisory. Thousands of
  recipients share a language and a region, so each (channel, language, region) is rendered
  once with placeholders and only the personal parts (name, links) are filled in per message:
  rendering never becomes the bottleneck of a large fan-out;
- a message (a safety check, a reminder, a staff message, a message to one citizen) carries
  its texts per language on the alert, with `{name}`, `{response_url}`, `{manage_url}` and
  `{reference}` filled in per message.

The signed links a message carries (unsubscribe, a safety check's answer) are made here too."""

import base64
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
from advisories.levels import effective_levels, governing_regions, level_name
from advisories.selectors import AdvisoryDigest, advisory_digests
from core import crypto, sms
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
REGION_TEMPLATE = "notifications/alert/region.txt"
HEADLINE_TEMPLATE = "notifications/alert/headline.txt"

# Placeholders of the level-change templates: they cannot occur in any template or advisory
# text.
_NAME, _MANAGE_URL, _UNSUBSCRIBE_URL = "\x00name\x00", "\x00manage\x00", "\x00unsubscribe\x00"
# Placeholders a message's texts may hold, as staff write them.
NAME, RESPONSE_URL, MANAGE_URL = "{name}", "{response_url}", "{manage_url}"
REFERENCE = "{reference}"

REFERENCE_LENGTH = 8
# Base32 without I, L, O and U (Crockford's alphabet): read aloud or typed from a phone's
# screen, a reference has no letter to mistake for a digit.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_REFERENCE = str.maketrans(_RFC4648, _REFERENCE_ALPHABET)


def unsubscribe_token(*, citizen_id: str, channel: str) -> str:
    return signing.dumps({"c": citizen_id, "ch": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, citizen_id: str, channel: str) -> str:
    token = unsubscribe_token(citizen_id=citizen_id, channel=channel)
    return token_url("notifications:unsubscribe", token)


def response_token(*, alert_id: uuid.UUID | str, citizen_id: uuid.UUID | str) -> str:
    return signing.dumps([str(alert_id), str(citizen_id)], salt=RESPONSE_SALT, compress=True)


def message_reference(*, alert_id: uuid.UUID | str, citizen_id: uuid.UUID | str) -> str:
    """The short code one recipient's copy of a message carries (`{reference}`): 40 bits of a
    keyed hash of the alert and the citizen, so it names no one and cannot be guessed from
    either id, yet the app that sent the message can store it before the message goes (the
    message's ledger holds no per-recipient text)."""
    digest = crypto.keyed_hash(f"{alert_id}:{citizen_id}", kind="message_reference")
    code = base64.b32encode(bytes.fromhex(digest)[:5]).decode("ascii")
    return code.translate(_TO_REFERENCE)


def preload() -> None:
    """Load what rendering the first alert needs: the URL table links are reversed from, the
    alert templates and each language's catalogue. A worker's parent process calls it before
    forking its pool, so each child starts with them instead of loading them on its first
    alert, while the first messages of a crisis wait (docs/performance.md)."""
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            get_resolver().reverse_dict  # noqa: B018 - built for the active language on first use
    for name in (
        SUBJECT_TEMPLATE,
        TEXT_TEMPLATE,
        HTML_TEMPLATE,
        SMS_TEMPLATE,
        REGION_TEMPLATE,
        HEADLINE_TEMPLATE,
    ):
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


@dataclass(frozen=True)
class RegionNews:
    """What a message says of one region: its level under the published version, the level
    before (only when it changed) and its regional note."""

    code: str
    name: str
    level: int
    level_name: str
    level_changed: bool
    old_level: int | None
    old_level_name: str
    note: str


@dataclass(frozen=True)
class _Country:
    """The country's regions as one language names them, with each region's level and note
    under the published version."""

    names: dict[str, str]
    parents: dict[str, str | None]
    levels: dict[str, int]
    notes: dict[str, str]


@dataclass(frozen=True)
class SmsFit:
    """A text message as sent, its parts, and what it left out to fit (names of
    SMS_OPTIONAL_PARTS without "show_", "regions", "note")."""

    text: str
    segments: int
    left_out: tuple[str, ...]


# What a text message may leave out, least needed first, to stay within its segments.
SMS_OPTIONAL_PARTS = ("show_assistance", "show_change_note", "show_posture")
SMS_SEGMENTS_WANTED = 2
SMS_SEGMENTS_MAX = 3


class LevelChangeRenderer:
    """Renders the messages of one publication from the alert templates, each true for its
    reader's region: what changed there (a level, or only the advice), or, for a reader with
    no region or whose region did not change, what changed region by region."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.changes = {change["region_code"]: change for change in alert.changes}
        self.countries: dict[str, _Country] = {}
        self.changed: dict[str, list[RegionNews]] = {}
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

    def _digest(self, language: str) -> AdvisoryDigest:
        if not self.digests:
            self.digests = advisory_digests(advisory_id=str(self.alert.advisory_id))
        return self.digests.get(language) or self.digests.get(language[:2]) or self.digests["en"]

    def _country(self, language: str) -> _Country:
        if not self.countries:
            for lang, _name in settings.LANGUAGES:
                digest = self._digest(lang)
                with translation.override(lang):
                    regions = list(regions_of_country(country_code=self.alert.country_id))
                parents = {region.code: region.parent_id for region in regions}
                governing = governing_regions(
                    overridden=digest.region_notes.keys(), parents=parents.items()
                )
                self.countries[lang] = _Country(
                    names={region.code: region.name for region in regions},
                    parents=parents,
                    levels=effective_levels(
                        country_level=digest.country_level,
                        overrides=digest.region_levels,
                        parents=parents.items(),
                    ),
                    notes={code: digest.region_notes[ruler] for code, ruler in governing.items()},
                )
        return self.countries.get(language[:2]) or self.countries["en"]

    def _news(self, code: str, language: str) -> RegionNews:
        country = self._country(language)
        change = self.changes.get(code)
        level = change["new_level"] if change else country.levels.get(code, 0)
        old_level = change["old_level"] if change else level
        level_changed = old_level != level
        shown_old = old_level if level_changed else None
        return RegionNews(
            code=code,
            name=country.names.get(code, code),
            level=level,
            level_name=level_name(level=level, language=language) if level else "",
            level_changed=level_changed,
            old_level=shown_old,
            old_level_name=level_name(level=shown_old, language=language) if shown_old else "",
            note=country.notes.get(code, ""),
        )

    def _changed_regions(self, language: str) -> list[RegionNews]:
        """Every region that changed, but a subdivision that says the same as its parent."""
        if language not in self.changed:
            self.changed[language] = self._list_changed_regions(language)
        return self.changed[language]

    def _list_changed_regions(self, language: str) -> list[RegionNews]:
        country = self._country(language)
        news = {code: self._news(code, language) for code in sorted(self.changes)}
        shown = []
        for code, region in news.items():
            parent = news.get(country.parents.get(code) or "")
            if parent is not None and (parent.level, parent.note) == (region.level, region.note):
                continue
            shown.append(region)
        return sorted(shown, key=lambda region: region.name)

    def _context(
        self, *, own: RegionNews | None, region_code: str, language: str
    ) -> dict[str, object]:
        own_changed = region_code in self.changes
        return {
            "name": _NAME,
            "manage_url": _MANAGE_URL,
            "unsubscribe_url": _UNSUBSCRIBE_URL,
            "digest": self._digest(language),
            "own": own,
            "own_changed": own_changed,
            # A reader whose own region changed reads of it; anyone else of every change.
            "elsewhere": [] if own_changed else self._changed_regions(language),
            "more": 0,
            "posts": self.posts,
        }

    def _render(self, *, channel: str, language: str, region_code: str) -> _Rendered:
        own = self._news(region_code, language) if region_code else None
        context = self._context(own=own, region_code=region_code, language=language)
        with translation.override(language):
            if channel == Channel.SMS:
                return _Rendered(subject="", text=self._sms(context).text, html="")
            return _Rendered(
                subject=" ".join(render_to_string(SUBJECT_TEMPLATE, context).split()),
                text=render_to_string(TEXT_TEMPLATE, context),
                html=render_to_string(HTML_TEMPLATE, context),
            )

    def sms_fit(self, *, language: str, region_code: str) -> SmsFit:
        """The text message a reader of that language and region gets, with what it left
        out: the editor's review shows it."""
        own = self._news(region_code, language) if region_code else None
        with translation.override(language):
            return self._sms(self._context(own=own, region_code=region_code, language=language))

    def _sms(self, context: dict[str, object]) -> SmsFit:
        """The text message: the first of ever shorter versions within two segments, else
        within three. Parts are left out least needed first (see SMS_OPTIONAL_PARTS), then
        regions at the end of the list (the most that fit, found by halving: a country has a
        hundred regions). The regional note goes only when even the shortest with it takes
        more than three (the editor's review refuses such a note): the headline, the link to
        the full advice and how to opt out always stay."""
        regions: list[RegionNews] = list(context["elsewhere"])  # type: ignore[call-overload]

        def text(kept: int = len(regions), **options: bool) -> str:
            parts = dict.fromkeys((*SMS_OPTIONAL_PARTS, "show_note"), True) | options
            shown = {"elsewhere": regions[:kept], "more": len(regions) - kept}
            rendered = render_to_string(SMS_TEMPLATE, {**context, **parts, **shown})
            return sms.fold_to_gsm7(" ".join(rendered.split()))

        def fit(candidate: str, left_out: list[str]) -> SmsFit:
            return SmsFit(
                text=candidate,
                segments=sms.segments(candidate),
                left_out=tuple(part.removeprefix("show_") for part in left_out),
            )

        without_options: dict[str, bool] = {}
        lighter: list[tuple[str, list[str]]] = [(text(), [])]
        for part in SMS_OPTIONAL_PARTS:
            without_options[part] = False
            lighter.append((text(**without_options), [*without_options]))
        all_options = [*without_options]
        shortest = fit(
            text(0, show_note=False, **without_options), [*all_options, "regions", "note"]
        )
        for limit in (SMS_SEGMENTS_WANTED, SMS_SEGMENTS_MAX):
            for candidate, left_out in lighter:
                if sms.segments(candidate) <= limit:
                    return fit(candidate, left_out)
            fitting, low, high = None, 0, len(regions) - 1
            while low <= high:
                kept = (low + high) // 2
                candidate = text(kept, **without_options)
                if sms.segments(candidate) <= limit:
                    fitting, low = candidate, kept + 1
                else:
                    high = kept - 1
            if fitting is not None:
                return fit(fitting, [*all_options, "regions"])
        return shortest


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
            text = (
                text.replace(NAME, contact.given_name)
                .replace(RESPONSE_URL, response_url)
                .replace(MANAGE_URL, contact.manage_url)
            )
            if REFERENCE in text:
                reference = message_reference(alert_id=self.alert.id, citizen_id=contact.citizen_id)
                text = text.replace(REFERENCE, reference)
            return text

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
