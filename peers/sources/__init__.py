"""Partner governments' feeds: one small class per source (us.py, uk.py, canada.py), chosen by
`settings.PEER_SOURCES`. A source fetches its feed over `Http` (conditional requests, a timeout,
a size cap) and parses it into `Advice` rows on our scale; it never touches the database. A
source whose URL is empty is off, which is the default: nothing is fetched unless an operator
points a source at its feed, and only the beat task fetches, never a request."""

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar

import requests
from django.conf import settings
from django.utils.module_loading import import_string


class SourceError(Exception):
    """The source could not be read: unreachable, an error status, a timeout, or an answer we
    cannot parse. Its message is short and names no person (it is shown to staff)."""


@dataclass(frozen=True)
class Advice:
    """One country's advice as a source states it, mapped to our scale (peers/levels.py)."""

    country_code: str
    level: int
    level_max: int
    label: str
    parts: bool
    link: str
    has_regional_advice: bool = False
    regions: tuple[str, ...] = ()
    key_risks: tuple[str, ...] = ()
    summary: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    marker: str = ""


@dataclass(frozen=True)
class Fetched:
    """What one fetch brought. `not_modified`: the source answered 304, nothing changed.
    `kept`: countries the source did not read again because its index shows no change."""

    advice: list[Advice] = field(default_factory=list)
    kept: frozenset[str] = frozenset()
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    skipped: int = 0
    # The source left documents for a next fetch (the UK's country pages, a number at a time):
    # try again at the next beat rather than after the whole interval.
    more: bool = False


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    etag: str
    last_modified: str


class Http:
    """The one way a source reaches the network: GET with the validators of the last answer,
    a connect and read timeout, and a cap on the size of what is read."""

    def __init__(self, *, timeout: float, max_bytes: int) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "consular-peer-advisories/1"

    def get(self, url: str, *, etag: str = "", last_modified: str = "") -> Response:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self.session.get(
                url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=True
            ) as answer:
                if answer.status_code == 304:
                    return Response(status=304, body=b"", etag=etag, last_modified=last_modified)
                if answer.status_code >= 400:
                    raise SourceError(f"HTTP {answer.status_code}")
                body = bytearray()
                for chunk in answer.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise SourceError(f"answer larger than {self.max_bytes} bytes")
                return Response(
                    status=answer.status_code,
                    body=bytes(body),
                    etag=answer.headers.get("ETag", ""),
                    last_modified=answer.headers.get("Last-Modified", ""),
                )
        except requests.Timeout as exc:
            raise SourceError("timeout") from exc
        except requests.RequestException as exc:
            raise SourceError(type(exc).__name__) from exc

    def close(self) -> None:
        self.session.close()


class Source:
    """A partner's feed. Subclasses name themselves and parse; `fetch` is the usual single
    conditional GET of one document, which a source with more documents overrides."""

    name: ClassVar[str]
    title: ClassVar[str]
    attribution: ClassVar[str]

    def __init__(self, *, url: str, http: Http) -> None:
        self.url = url
        self.http = http

    def fetch(self, *, etag: str, last_modified: str, markers: Mapping[str, str]) -> Fetched:
        response = self.http.get(self.url, etag=etag, last_modified=last_modified)
        if response.status == 304:
            return Fetched(not_modified=True, etag=etag, last_modified=last_modified)
        advice, skipped = self.parse(response.body)
        return Fetched(
            advice=advice,
            etag=response.etag,
            last_modified=response.last_modified,
            skipped=skipped,
        )

    def parse(self, body: bytes) -> tuple[list[Advice], int]:
        """The advice in the document, and how many entries were left out (no ISO country)."""
        raise NotImplementedError


def source_names() -> list[str]:
    """Every source in the settings, on or off."""
    return list(settings.PEER_SOURCES)


def source_enabled(name: str) -> bool:
    return bool(settings.PEER_SOURCES.get(name, {}).get("url"))


def source_get(name: str, *, http: Http) -> Source:
    config = settings.PEER_SOURCES[name]
    cls: type[Source] = import_string(config["class"])
    return cls(url=config["url"], http=http)


def source_class(name: str) -> type[Source]:
    return import_string(settings.PEER_SOURCES[name]["class"])


def enabled_sources() -> Iterator[str]:
    return (name for name in source_names() if source_enabled(name))


def http_client() -> Http:
    return Http(timeout=settings.PEER_TIMEOUT_SECONDS, max_bytes=settings.PEER_MAX_BYTES)


# --- Helpers the sources share ----------------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def plain_text(markup: str, *, limit: int = 600) -> str:
    """A source's HTML summary as one line of text, cut at `limit` characters."""
    text = _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", markup or ""))).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 or an RFC 822 date (with or without a time), as the feeds write them; None
    for anything else, so that one odd date never fails a whole fetch."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            try:
                parsed = datetime.strptime(text, "%a, %d %b %Y")  # noqa: DTZ007 - made aware below
            except ValueError:
                return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
