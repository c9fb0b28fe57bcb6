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
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.regex_helper import _lazy_re_compile
from django.utils.text import compress_string
from django.utils.translation import get_language

ACCEPTS_GZIP = _lazy_re_compile(r"\bgzip\b")
# Below this, compressing saves less than the header costs (GZipMiddleware's threshold).
MIN_COMPRESSED_LENGTH = 200


def _stamp_key(scope: str) -> str:
    return f"public-stamp:{scope}"


def stamp(scope: str) -> int:
    """The scope's publication stamp (nanoseconds since the epoch). A cache that lost it
    (restarted, evicted) starts a new one now: readers then render afresh, never stale."""
    key = _stamp_key(scope)
    value = cache.get(key)
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


def _caller_is_known(request: HttpRequest) -> bool:
    if "HTTP_AUTHORIZATION" in request.META:
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
    return _Rendering(response["Content-Type"], content, compressed)


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
            published = stamp(scope(**kwargs))
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
            response["ETag"] = etag
            response["Last-Modified"] = http_date(last_modified)
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_MAX_AGE)
            # Cookie: the language may come from Django's language cookie.
            vary = ["Accept-Language", "Cookie", "Accept-Encoding"]
            patch_vary_headers(response, [*vary, "Accept"] if vary_on_accept else vary)
            return response

        return cast(ViewT, wrapped)

    return decorator
