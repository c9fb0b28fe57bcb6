"""The Common Alerting Protocol (OASIS CAP 1.2) message for a country's advisory, so other
alerting systems can relay it. One `info` per language, one `area` per region that changed
or sits above the country level, each with its ISO 3166-2 code as a geocode."""

from datetime import UTC, datetime
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from advisories.levels import level_name
from advisories.models import Advisory
from advisories.selectors import advisory_levels
from regions.selectors import regions_of_country

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
LANGUAGES = ("en", "fr")
EVENT = {"en": "Travel advisory", "fr": "Conseil aux voyageurs"}

# By the highest level in the country: how urgent, severe and certain the risk is, and what a
# traveller should do (levels 3 and 4 tell them to stay away or to leave).
URGENCY = {1: "Future", 2: "Future", 3: "Expected", 4: "Immediate"}
SEVERITY = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Extreme"}
CERTAINTY = {1: "Possible", 2: "Possible", 3: "Likely", 4: "Likely"}
RESPONSE = {1: "Monitor", 2: "Monitor", 3: "Avoid", 4: "Evacuate"}


def _sent(moment: datetime) -> str:
    # CAP wants an explicit offset ("+00:00"), never "Z" nor fractions of a second.
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def cap_sender() -> str:
    return f"advisories@{urlparse(settings.SITE_URL).hostname or 'localhost'}"


def cap_identifier(advisory: Advisory, *, cancel: bool = False) -> str:
    return f"urn:uuid:{advisory.pk}" + (".cancel" if cancel else "")


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def advisory_cap(*, advisory: Advisory) -> bytes:
    """An Alert for a first version, an Update referencing the version it superseded, or a
    Cancel referencing a withdrawn version."""
    cancel = advisory.status == Advisory.Status.WITHDRAWN
    if advisory.published_at is None:
        raise ValueError("only a published version has a CAP message")
    sender = cap_sender()
    previous = advisory if cancel else advisory.supersedes
    sent = advisory.withdrawn_at if cancel and advisory.withdrawn_at else advisory.published_at

    alert = ET.Element(f"{{{NAMESPACE}}}alert")
    _add(alert, "identifier", cap_identifier(advisory, cancel=cancel))
    _add(alert, "sender", sender)
    _add(alert, "sent", _sent(sent))
    _add(alert, "status", "Actual")
    _add(alert, "msgType", "Cancel" if cancel else "Update" if previous else "Alert")
    _add(alert, "scope", "Public")
    if previous is not None and previous.published_at is not None:
        _add(
            alert,
            "references",
            f"{sender},{cap_identifier(previous)},{_sent(previous.published_at)}",
        )

    levels = advisory_levels(advisory=advisory)
    top = max([advisory.country_level, *levels.values()])
    changed = set(advisory.level_changes.values_list("region_id", flat=True))
    regions = [
        region
        for region in regions_of_country(country_code=advisory.country_id)
        if region.code in changed or levels[region.code] > advisory.country_level
    ]
    url = settings.SITE_URL + reverse("advisories:country", kwargs={"code": advisory.country_id})

    for language in LANGUAGES:
        with translation.override(language):
            info = _add(alert, "info")
            _add(info, "language", language)
            _add(info, "category", "Security")
            _add(info, "event", EVENT[language])
            _add(info, "responseType", RESPONSE[top])
            _add(info, "urgency", URGENCY[top])
            _add(info, "severity", SEVERITY[top])
            _add(info, "certainty", CERTAINTY[top])
            _add(
                info,
                "headline",
                f"{advisory.country.name}: "
                f"{level_name(level=advisory.country_level, language=language)}",
            )
            description = "\n\n".join(
                text
                for text in (
                    advisory.localized("summary", language),
                    advisory.localized("body", language),
                )
                if text
            )
            if description:
                _add(info, "description", description)
            if instructions := advisory.localized("instructions", language):
                _add(info, "instruction", instructions)
            _add(info, "web", url)
            if not regions:
                area = _add(info, "area")
                _add(area, "areaDesc", advisory.country.name)
                geocode = _add(area, "geocode")
                _add(geocode, "valueName", "ISO3166-1")
                _add(geocode, "value", advisory.country_id)
            for region in regions:
                area = _add(info, "area")
                level = level_name(level=levels[region.code], language=language)
                _add(area, "areaDesc", f"{region.name}: {level}")
                geocode = _add(area, "geocode")
                _add(geocode, "valueName", "ISO3166-2")
                _add(geocode, "value", region.code)

    ET.register_namespace("", NAMESPACE)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
