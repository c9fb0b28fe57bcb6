"""HTTP helpers every app uses for pages that hold personal data, and the one place that says
which address a request came from."""

import ipaddress
from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers


def no_store[ViewT: Callable[..., Any]](view: ViewT) -> ViewT:
    """Forbid every cache (browser, proxy, back button) to keep the response.

    For function views (sync or async). Class-based views and DRF views and viewsets take
    `NoStoreMixin` instead, or `method_decorator(no_store, name="dispatch")`.
    """
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapped(*args: Any, **kwargs: Any) -> HttpResponseBase:
            response = await view(*args, **kwargs)
            add_never_cache_headers(response)
            return response

        return cast(ViewT, async_wrapped)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(*args, **kwargs)
        add_never_cache_headers(response)
        return response

    return cast(ViewT, wrapped)


def staff_view[ViewT: Callable[..., HttpResponse]](view: ViewT) -> ViewT:
    """A staff page: staff past their second factor; anyone else is sent to the admin's
    sign-in. Never cached, since staff pages name people."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not (user.is_authenticated and user.is_staff and user.is_verified()):
            return redirect(f"/admin/login/?next={request.path}")
        return view(request, *args, **kwargs)

    return no_store(cast(ViewT, wrapped))


class NoStoreMixin:
    """`no_store` for a Django class-based view or a DRF APIView/ViewSet: put it first in the
    bases. Every response, errors included, carries `Cache-Control: no-store`."""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        add_never_cache_headers(response)
        return response


def client_address(request: HttpRequest) -> str | None:
    """The address of the client that sent the request, or None when it is not a valid IP.

    X-Forwarded-For is trusted only as far as settings.TRUSTED_PROXY_COUNT says: with N
    proxies in front of the site, each appends the address it received the request from, so
    the N-th entry from the right is the one the outermost proxy saw. Entries further left
    are whatever the client chose to send and are ignored.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR", "")
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class RejectNullCharactersMiddleware:
    """Answers 400 to a request whose path or query parameters hold a NUL character.

    PostgreSQL text cannot store NUL, so such a value reaching a filter fails as a server
    error; DRF's fields and Django's forms already refuse it in bodies, this covers the URL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            # Answered by the root URLconf's handler400: JSON under the API.
            raise BadRequest("Null characters are not allowed.")
        return self.get_response(request)


class HtmlGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, whose random padding answers BREACH, for pages only.

    HTML is where the bytes are; the API's answers are small JSON its clients read as sent,
    and its one large public answer is compressed once by the public cache. A response that
    already names its Content-Encoding (the public cache's) is left as it is.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
