"""Public pages served from what was published: rendered once per publication, kept in the
cache, answered with 304 when the reader already has them.

A page belongs to a scope ("advisories" for what lists every country, "advisories:ML" for one
country's). Each scope has a stamp in the cache, the time of its last publication; the service
that publishes or withdraws bumps it after its commit, so every cached rendering of the scope's
pages, in every language, is from then on under a key nobody asks for. A reader takes the stamp
before rendering: one who rendered the old content took the old stamp, so nothing stale is ever
stored under a current key.

Only anonymous readers of a page's own address (no query string) are served from the cache,
and only responses that set no cookie are kept in it: a page that names a person (those are
`no_store`) or a signed-in caller never goes near it. Compression happens here, once per
rendering rather than once per request: these pages carry no secret (no CSRF token, no
session), so the same bytes serve everyone. Every other page is compressed per request by
core.http.HtmlGZipMiddleware, whose random padding answers BREACH on the pages that do carry
a token; it leaves these alone, as they already name their Content-Encoding.

`PublicPageMiddleware`, right after WhiteNoise, answers the next anonymous reader of a page
the whole stack has served from a copy in its own process, as the stack answered it (headers
and body), after one look at the scope's stamp: the session, authentication, locale, CSRF and
URL resolution, which cost more than the rest of such a request, are not run again until a
publication moves the stamp.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.regex_helper import _lazy_re_compile
from django.utils.text import compress_string
from django.utils.translation import get_language

from core.cache_client import redis_client

ACCEPTS_GZIP = _lazy_re_compile(r"\bgzip\b")
MESSAGES_COOKIE = CookieStorage.cookie_name
# Below this, compressing saves less than the header costs (GZipMiddleware's threshold).
MIN_COMPRESSED_LENGTH = 200


def _stamp_key(scope: str) -> str:
    return f"public-stamp:{scope}"


def stamp(scope: str) -> int:
    """The scope's publication stamp (nanoseconds since the epoch). A cache that lost it
    (restarted, evicted) starts a new one now: readers then render afresh, never stale."""
    key = _stamp_key(scope)
    client = redis_client()
    # Read on every request for a public page. Django's Redis backend stores an integer as its
    # digits (so that `incr` works), which the client reads back as they are.
    value = cache.get(key) if client is None else client.get(cache.make_and_validate_key(key))
    if value is None:
        # add: two readers starting a stamp at once agree on the first one written.
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key)
    return int(value)


def stamps_bump(*scopes: str) -> None:
    """Every page of these scopes changes: call after the commit that changed them."""
    now = time.time_ns()
    cache.set_many({_stamp_key(scope): now for scope in scopes}, timeout=None)


@dataclass(frozen=True)
class _Rendering:
    content_type: str
    content: bytes
    compressed: bytes | None
    # time.time() of the rendering: a copy made from it lives no longer than it does. A
    # rendering stored before the field existed reads 0 and is never copied.
    rendered_at: float = 0.0


@dataclass(frozen=True)
class _Published:
    """What the decorator tells the middleware about a page it answered from a rendering."""

    scope: str
    stamp: int
    etag: str
    last_modified: int
    rendered_at: float


def _caller_is_known(request: HttpRequest) -> bool:
    """Whether the answer may be for this reader alone: credentials, a signed-in session, or
    messages waiting in their cookie (the base template shows them)."""
    if "HTTP_AUTHORIZATION" in request.META or MESSAGES_COOKIE in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _render(
    view: Callable[..., HttpResponseBase], request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponseBase:
    response = view(request, *args, **kwargs)
    render = getattr(response, "render", None)
    if callable(render):
        render()  # a DRF or template response, rendered here to be kept
    return response


def _keepable(response: HttpResponseBase) -> bool:
    return (
        response.status_code == 200
        and isinstance(response, HttpResponse)
        and not response.cookies
        and not response.has_header("Content-Encoding")
    )


def _rendering(response: HttpResponse) -> _Rendering:
    content = response.content
    compressed = compress_string(content) if len(content) >= MIN_COMPRESSED_LENGTH else None
    if compressed is not None and len(compressed) >= len(content):
        compressed = None
    return _Rendering(response["Content-Type"], content, compressed, time.time())


def _answer(request: HttpRequest, rendering: _Rendering) -> HttpResponse:
    gzip = rendering.compressed is not None and ACCEPTS_GZIP.search(
        request.META.get("HTTP_ACCEPT_ENCODING", "")
    )
    if gzip:
        response = HttpResponse(rendering.compressed, content_type=rendering.content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(rendering.content, content_type=rendering.content_type)
    return response


def public_page[ViewT: Callable[..., Any]](
    *, scope: Callable[..., str], vary_on_accept: bool = False
) -> Callable[[ViewT], ViewT]:
    """Serve a public GET view from the cache of its scope's current publication.

    `scope` receives the view's URL keyword arguments and names the scope. `vary_on_accept`
    for a view whose format follows the Accept header (the API's browsable renderer)."""

    def decorator(view: ViewT) -> ViewT:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            # A query string is rendered, never kept: these pages read none, and keying on it
            # would let anyone fill the cache with variants of one page.
            if (
                request.method not in ("GET", "HEAD")
                or request.META.get("QUERY_STRING")
                or _caller_is_known(request)
            ):
                return view(request, *args, **kwargs)
            scope_name = scope(**kwargs)
            published = stamp(scope_name)
            # Two variants at most (the API's browsable HTML or its JSON), whatever was sent.
            html = vary_on_accept and "text/html" in request.META.get("HTTP_ACCEPT", "")
            variant = f"{published}|{get_language()}|{'html' if html else ''}|{request.path}"
            digest = hashlib.sha256(variant.encode()).hexdigest()[:32]
            # Weak: the same page compressed or not is the same page.
            etag = f'W/"{digest}"'
            last_modified = published // 1_000_000_000

            response = get_conditional_response(request, etag=etag, last_modified=last_modified)
            if response is None:
                key = f"public-page:{digest}"
                rendering = cache.get(key)
                if rendering is None:
                    rendered = _render(view, request, *args, **kwargs)
                    if not _keepable(rendered):
                        return rendered
                    rendering = _rendering(cast(HttpResponse, rendered))
                    cache.set(key, rendering, timeout=settings.PUBLIC_CACHE_SECONDS)
                response = _answer(request, rendering)
                response.public_page = _Published(  # type: ignore[attr-defined]
                    scope_name, published, etag, last_modified, rendering.rendered_at
                )
            response["ETag"] = etag
            response["Last-Modified"] = http_date(last_modified)
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_MAX_AGE)
            # Cookie: the language may come from Django's language cookie.
            vary = ["Accept-Language", "Cookie", "Accept-Encoding"]
            patch_vary_headers(response, [*vary, "Accept"] if vary_on_accept else vary)
            return response

        return cast(ViewT, wrapped)

    return decorator


# --- served again before the stack ----------------------------------------------------------

# Headers a 304 leaves out: it has no body.
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})


@dataclass(frozen=True)
class _Copy:
    published: _Published
    content: bytes
    headers: tuple[tuple[str, str], ...]
    expires_at: float

    def answer(self, request: HttpRequest) -> HttpResponseBase:
        published = self.published
        not_modified = get_conditional_response(
            request, etag=published.etag, last_modified=published.last_modified
        )
        if not_modified is not None:
            for name, value in self.headers:
                if name.lower() not in _BODY_HEADERS:
                    not_modified[name] = value
            return not_modified
        return HttpResponse(self.content, headers=dict(self.headers))


def _language(request: HttpRequest) -> str:
    """The language LocaleMiddleware would activate for the request, decided as it does."""
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    patterns_used, prefixed_default = is_language_prefix_patterns_used(urlconf)
    language = translation.get_language_from_request(request, check_path=patterns_used)
    if (
        patterns_used
        and not prefixed_default
        and not translation.get_language_from_path(request.path_info)
    ):
        language = settings.LANGUAGE_CODE
    return language


def _copy_key(request: HttpRequest) -> tuple[str, str, bool, bool] | None:
    """Which copy answers the request; None for a request only the whole stack may answer:
    anything but a plain read, a query string, a caller who may be known (credentials, a
    session: the authentication middleware has not run yet) or has messages waiting."""
    meta = request.META
    if (
        request.method not in ("GET", "HEAD")
        or meta.get("QUERY_STRING")
        or "HTTP_AUTHORIZATION" in meta
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or MESSAGES_COOKIE in request.COOKIES
    ):
        return None
    return (
        request.path,
        _language(request),
        "text/html" in meta.get("HTTP_ACCEPT", ""),
        bool(ACCEPTS_GZIP.search(meta.get("HTTP_ACCEPT_ENCODING", ""))),
    )


class PublicPageMiddleware:
    """Answers a public page from this process's copy of what the whole stack last answered
    for the same page, language, format and encoding, while the page's scope keeps the stamp
    the copy was made under (one cache read), and for no longer than its rendering lives in
    the cache. Only responses `public_page` answered from a rendering, with status 200 and
    no cookie set, are copied; the copies are few (`PUBLIC_CACHE_LOCAL_ENTRIES`, the least
    recently used dropped first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.copies: OrderedDict[tuple[str, str, bool, bool], _Copy] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        key = _copy_key(request)
        if key is None:
            return self.get_response(request)
        with self.lock:
            copy = self.copies.get(key)
            if copy is not None:
                self.copies.move_to_end(key)
        if (
            copy is not None
            and time.time() < copy.expires_at
            and stamp(copy.published.scope) == copy.published.stamp
        ):
            # As CommonMiddleware would: a Host not in ALLOWED_HOSTS is a 400.
            request.get_host()
            return copy.answer(request)
        response = self.get_response(request)
        self._keep(request, key, response)
        return response

    def _keep(
        self, request: HttpRequest, key: tuple[str, str, bool, bool], response: HttpResponseBase
    ) -> None:
        published: _Published | None = getattr(response, "public_page", None)
        if (
            published is None
            or response.status_code != 200
            or response.cookies
            or not isinstance(response, HttpResponse)
            # The stack chose the language the key was computed with.
            or getattr(request, "LANGUAGE_CODE", None) != key[1]
        ):
            return
        copy = _Copy(
            published=published,
            content=response.content,
            headers=tuple(response.items()),
            expires_at=published.rendered_at + settings.PUBLIC_CACHE_SECONDS,
        )
        with self.lock:
            self.copies[key] = copy
            self.copies.move_to_end(key)
            while len(self.copies) > settings.PUBLIC_CACHE_LOCAL_ENTRIES:
                self.copies.popitem(last=False)
