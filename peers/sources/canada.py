"""Canada: Global Affairs Canada's open data, one JSON document for every destination
(`https://data.international.gc.ca/travel-voyage/index-updated.json`): {"metadata": {...},
"data": {"<ISO>": {"country-iso", "advisory-state" 0-3, "has-advisory-warning",
"has-regional-advisory", "date-published": {"timestamp", "date", "asp"}, "eng": {"name",
"url-slug", "advisory-text", "recent-updates", ...}, "fra": {...}}}}. Keys are ISO 3166-1."""

import json
from typing import Any

from peers.levels import CANADA_STATES
from peers.sources import Advice, Source, SourceError, parse_datetime, plain_text

PAGE = "https://travel.gc.ca/destinations/{slug}"


def _advice(code: str, entry: dict[str, Any]) -> Advice | None:
    state = entry.get("advisory-state")
    if not isinstance(state, int) or state not in CANADA_STATES:
        return None
    level, words = CANADA_STATES[state]
    english = entry.get("eng")
    if not isinstance(english, dict):
        english = {}
    published = entry.get("date-published")
    published_at = parse_datetime(published.get("asp")) if isinstance(published, dict) else None
    slug = str(english.get("url-slug") or "").strip()
    return Advice(
        country_code=str(entry.get("country-iso") or code).upper(),
        level=level,
        level_max=level,
        label=str(english.get("advisory-text") or words).strip(),
        parts=False,
        link=PAGE.format(slug=slug) if slug else "https://travel.gc.ca/travelling/advisories",
        has_regional_advice=bool(entry.get("has-regional-advisory")),
        summary=plain_text(str(english.get("recent-updates") or "")),
        published_at=published_at,
        updated_at=published_at,
    )


class Canada(Source):
    name = "canada"
    title = "Canada"
    attribution = "Global Affairs Canada, Open Government Licence - Canada"

    def parse(self, body: bytes) -> tuple[list[Advice], int]:
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise SourceError("malformed JSON") from exc
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            raise SourceError("no 'data' object")
        advice, skipped = [], 0
        for code, entry in data.items():
            found = _advice(code, entry) if isinstance(entry, dict) else None
            if found is None or len(found.country_code) != 2:
                skipped += 1
            else:
                advice.append(found)
        return advice, skipped
