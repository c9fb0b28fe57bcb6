"""What an alert says to one citizen, in their language, for their region.

Thousands of recipients share a language and a region, so each (channel, language, region) is
rendered once with placeholders and only the personal parts (name, links) are filled in per
message: rendering never becomes the bottleneck of a large fan-out."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.template.loader import get_template, render_to_string
from django.urls import get_resolver
from django.utils import translation
from django.utils.html import escape

from accounts.selectors import posts_covering_country
from advisories.levels import level_name
from advisories.selectors import AdvisoryDigest, advisory_digest
from core.links import token_url
from notifications.channels import OutgoingMessage
from notifications.models import Alert, Channel
from regions.selectors import regions_of_country
from registrations.selectors import CitizenContact

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# Placeholders that cannot occur in any template or advisory text.
NAME, MANAGE_URL, UNSUBSCRIBE_URL = "\x00name\x00", "\x00manage\x00", "\x00unsubscribe\x00"


SUBJECT_TEMPLATE = "notifications/alert/email_subject.txt"
TEXT_TEMPLATE = "notifications/alert/email_body.txt"
HTML_TEMPLATE = "notifications/alert/email_body.html"
SMS_TEMPLATE = "notifications/alert/sms.txt"


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


@dataclass(frozen=True)
class _Rendered:
    subject: str
    text: str
    html: str


def unsubscribe_token(*, citizen_id: str, channel: str) -> str:
    return signing.dumps({"c": citizen_id, "ch": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, citizen_id: str, channel: str) -> str:
    token = unsubscribe_token(citizen_id=citizen_id, channel=channel)
    return token_url("notifications:unsubscribe", token)


class AlertRenderer:
    """Renders the messages of one alert; `renderer_for` keeps one per alert."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.changes = {change["region_code"]: change for change in alert.changes}
        self.region_names: dict[tuple[str, str], str] = {}
        self.cache: dict[tuple[str, str, str], _Rendered] = {}
        # The advisory as each language tells it, read once: every region renders from it.
        self.digests: dict[str, AdvisoryDigest] = {}
        self.posts = list(posts_covering_country(country_code=alert.country_id))

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
            if channel == Channel.EMAIL or UNSUBSCRIBE_URL in rendered.text
            else ""
        )

        def personal(text: str, *, html: bool = False) -> str:
            fill = escape if html else str
            return (
                text.replace(NAME, fill(contact.given_name))
                .replace(MANAGE_URL, fill(contact.manage_url))
                .replace(UNSUBSCRIBE_URL, fill(unsubscribe))
            )

        headers = {}
        if channel == Channel.EMAIL:
            headers = {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Consular-Delivery": str(delivery_id),
            }
        return OutgoingMessage(
            reference=str(delivery_id),
            to=contact.email if channel == Channel.EMAIL else contact.phone,
            subject=personal(rendered.subject),
            text=personal(rendered.text),
            html=personal(rendered.html, html=True),
            headers=headers,
        )

    def _region_name(self, region_code: str, language: str) -> str:
        if not self.region_names:
            for lang in ("en", "fr"):
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
            "name": NAME,
            "manage_url": MANAGE_URL,
            "unsubscribe_url": UNSUBSCRIBE_URL,
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
