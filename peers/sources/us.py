"""The United States: the State Department's travel advisories, from its JSON API
(`https://cadataapi.state.gov/api/TravelAdvisories`: a list of {Title, Link, Category, Summary,
id, Published, Updated}) or its RSS feed (`https://travel.state.gov/_res/rss/TAsTWs.xml`: items
with a title, link, pubDate, description and categories, the domains Threat-Level and
Country-Tag). Either URL works: the answer's first character tells which it is.

The level is in the title ("Mali - Level 4: Do Not Travel"), or the Threat-Level category, or
an `Advisory_Level` field where the answer has one. Countries are FIPS 10-4 codes
(peers/levels.py), never ISO ones. The key risks are the State Department's risk indicators
named in the summary."""

import json
import re
from typing import Any
from xml.etree import ElementTree

from peers.levels import US_LEVELS, iso_from_fips
from peers.sources import Advice, Source, SourceError, parse_datetime, plain_text

_LEVEL = re.compile(r"Level\s*([1-4])\s*:?\s*([^<]*)", re.IGNORECASE)

# The State Department's risk indicators, as its summaries name them ("due to crime,
# terrorism, and kidnapping"); the first words found, in this order.
RISK_INDICATORS: tuple[tuple[str, str], ...] = (
    ("crime", "Crime"),
    ("terrorism", "Terrorism"),
    ("civil unrest", "Civil unrest"),
    ("armed conflict", "Armed conflict"),
    ("kidnapping", "Kidnapping or hostage taking"),
    ("hostage", "Kidnapping or hostage taking"),
    ("wrongful detention", "Wrongful detention"),
    ("health", "Health"),
    ("natural disaster", "Natural disaster"),
    ("landmines", "Landmines"),
)


def key_risks(summary: str) -> tuple[str, ...]:
    text = summary.lower()
    found: list[str] = []
    for words, label in RISK_INDICATORS:
        if words in text and label not in found:
            found.append(label)
    return tuple(found)


def _level(*texts: object) -> tuple[int, str] | None:
    for text in texts:
        if isinstance(text, str) and text.strip().isdigit():
            text = int(text)
        if isinstance(text, int) and text in US_LEVELS:
            return text, f"Level {text}: {US_LEVELS[text]}"
        if isinstance(text, str) and (match := _LEVEL.search(text)):
            level = int(match.group(1))
            words = match.group(2).strip() or US_LEVELS[level]
            return level, f"Level {level}: {words}"
    return None


def _country(tags: list[str]) -> str | None:
    for tag in tags:
        if code := iso_from_fips(tag):
            return code
    return None


def _advice(
    *, tags: list[str], title: str, level_field: object, link: str, summary: str, **dates: Any
) -> Advice | None:
    country = _country(tags)
    found = _level(level_field, title)
    if country is None or found is None:
        return None
    level, label = found
    text = plain_text(summary)
    return Advice(
        country_code=country,
        level=level,
        level_max=level,
        label=label,
        parts=False,
        link=link.strip(),
        key_risks=key_risks(text),
        summary=text,
        published_at=parse_datetime(dates.get("published")),
        updated_at=parse_datetime(dates.get("updated")),
    )


class UnitedStates(Source):
    name = "us"
    title = "United States"
    attribution = "U.S. Department of State, travel.state.gov (public domain)"

    def parse(self, body: bytes) -> tuple[list[Advice], int]:
        start = body.lstrip()[:1]
        if start == b"[":
            return self._parse_json(body)
        if start == b"<":
            return self._parse_rss(body)
        raise SourceError("neither JSON nor RSS")

    def _parse_json(self, body: bytes) -> tuple[list[Advice], int]:
        try:
            entries = json.loads(body)
        except ValueError as exc:
            raise SourceError("malformed JSON") from exc
        if not isinstance(entries, list):
            raise SourceError("JSON is not a list")
        advice, skipped = [], 0
        for entry in entries:
            if not isinstance(entry, dict):
                skipped += 1
                continue
            category = entry.get("Category")
            tags = [category] if isinstance(category, str) else list(category or [])
            found = _advice(
                tags=[tag for tag in tags if isinstance(tag, str)],
                title=str(entry.get("Title") or ""),
                level_field=entry.get("Advisory_Level"),
                link=str(entry.get("Link") or ""),
                summary=str(entry.get("Summary") or ""),
                published=entry.get("Published"),
                updated=entry.get("Updated"),
            )
            if found is None:
                skipped += 1
            else:
                advice.append(found)
        return advice, skipped

    def _parse_rss(self, body: bytes) -> tuple[list[Advice], int]:
        # The feed has no DTD: refusing one keeps entity expansion out of the parser.
        if b"<!DOCTYPE" in body.upper():
            raise SourceError("RSS with a DTD")
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - no DTD, checked above
        except ElementTree.ParseError as exc:
            raise SourceError("malformed RSS") from exc
        advice, skipped = [], 0
        for item in root.iter("item"):
            categories = {
                (category.get("domain") or ""): (category.text or "").strip()
                for category in item.findall("category")
            }
            found = _advice(
                tags=[categories.get("Country-Tag", "")],
                title=item.findtext("title") or "",
                level_field=categories.get("Threat-Level"),
                link=item.findtext("link") or "",
                summary=item.findtext("description") or "",
                published=item.findtext("pubDate"),
                updated=item.findtext("pubDate"),
            )
            if found is None:
                skipped += 1
            else:
                advice.append(found)
        return advice, skipped
