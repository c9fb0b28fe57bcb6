"""The United Kingdom: the FCDO's foreign travel advice through the GOV.UK content API. The
index (`https://www.gov.uk/api/content/foreign-travel-advice`) lists every country in
`links.children` (title, base_path, public_updated_at, details.country {name, slug}); each
country's page (`.../foreign-travel-advice/<slug>`) carries `details.alert_status` (none, or
some of four codes: peers/levels.py), `change_history`, `reviewed_at` and `updated_at`.

A fetch reads the index (conditionally), then only the pages of the countries whose
`public_updated_at` differs from the one last read, at most PEER_UK_PAGES_PER_FETCH of them
(the first fetch has some 225 to read); the others are kept as they are."""

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from peers.levels import UK_ALERT_STATUS, uk_iso_code, uk_level
from peers.sources import Advice, Fetched, Source, SourceError, parse_datetime, plain_text

PAGE = "https://www.gov.uk/foreign-travel-advice/{slug}"
CODE_WORDS = {
    "avoid_all_travel_to_whole_country": "Advise against all travel",
    "avoid_all_travel_to_parts": "Advise against all travel to parts",
    "avoid_all_but_essential_travel_to_whole_country": "Advise against all but essential travel",
    "avoid_all_but_essential_travel_to_parts": ("Advise against all but essential travel to parts"),
}
NO_STATUS_WORDS = "No advice against travel"


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise SourceError("malformed JSON") from exc
    if not isinstance(document, dict):
        raise SourceError("JSON is not an object")
    return document


def parse_index(body: bytes) -> list[tuple[str, str, str]]:
    """(ISO code, slug, public_updated_at) of every country of the index we can name."""
    children = (_json(body).get("links") or {}).get("children")
    if not isinstance(children, list):
        raise SourceError("no 'links.children' in the index")
    countries = []
    for child in children:
        if not isinstance(child, dict):
            continue
        country = (child.get("details") or {}).get("country") or {}
        slug = str(country.get("slug") or str(child.get("base_path") or "").rsplit("/", 1)[-1])
        code = uk_iso_code(str(country.get("name") or ""))
        if code and slug:
            countries.append((code, slug, str(child.get("public_updated_at") or "")))
    return countries


def parse_country(body: bytes, *, code: str, slug: str, marker: str) -> Advice:
    document = _json(body)
    details = document.get("details")
    if not isinstance(details, dict):
        raise SourceError("no 'details' in a country page")
    statuses = [s for s in details.get("alert_status") or [] if isinstance(s, str)]
    mapped = uk_level(statuses)
    words = [CODE_WORDS[s] for s in statuses if s in UK_ALERT_STATUS] or [NO_STATUS_WORDS]
    history = details.get("change_history") or []
    latest = history[0] if history and isinstance(history[0], dict) else {}
    return Advice(
        country_code=code,
        level=mapped.level,
        level_max=mapped.level_max,
        label="; ".join(words),
        parts=mapped.parts,
        link=str(document.get("web_url") or PAGE.format(slug=slug)),
        has_regional_advice=any(s.endswith("_to_parts") for s in statuses),
        summary=plain_text(str(latest.get("note") or details.get("change_description") or "")),
        published_at=parse_datetime(document.get("first_published_at")),
        updated_at=parse_datetime(details.get("updated_at") or document.get("public_updated_at")),
        marker=marker,
    )


class UnitedKingdom(Source):
    name = "uk"
    title = "United Kingdom"
    attribution = "FCDO travel advice, GOV.UK, Open Government Licence v3.0"

    def fetch(self, *, etag: str, last_modified: str, markers: Mapping[str, str]) -> Fetched:
        index = self.http.get(self.url, etag=etag, last_modified=last_modified)
        if index.status == 304:
            return Fetched(not_modified=True, etag=etag, last_modified=last_modified)
        advice: list[Advice] = []
        kept: set[str] = set()
        skipped = 0
        budget = settings.PEER_UK_PAGES_PER_FETCH
        deferred = False
        for code, slug, marker in parse_index(index.body):
            if marker and markers.get(code) == marker:
                kept.add(code)
                continue
            if budget <= 0:
                # Within a task's time limit: the rest wait for the next fetch, which must
                # then read the index again (no validators kept).
                kept.add(code)
                deferred = True
                continue
            budget -= 1
            try:
                page = self.http.get(f"{self.url.rstrip('/')}/{slug}")
                advice.append(parse_country(page.body, code=code, slug=slug, marker=marker))
            except SourceError:
                # One country's page failing keeps its last advice; its old marker makes the
                # next fetch read it again.
                kept.add(code)
                skipped += 1
        return Fetched(
            advice=advice,
            kept=frozenset(kept),
            etag="" if deferred else index.etag,
            last_modified="" if deferred else index.last_modified,
            skipped=skipped,
            more=deferred,
        )
