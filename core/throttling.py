"""DRF throttles counted by `core.ratelimit`, per client address as `core.http` reads it.

DRF's own throttles name the client from X-Forwarded-For whenever `NUM_PROXIES` is unset, so a
client that sends a new header on each request is a new client each time; and they read the
history, append and write it back, so concurrent requests overwrite each other's counts. These
take the address from `core.http.client_address` (the one place that knows how many proxies to
trust, shared with the login lockout and the audit log) and count with the atomic limiter, whose
keys hold a keyed hash of the address rather than the address.

Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, read on each request rather than
when the class is defined, so a changed setting applies at once.
"""

import time
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core import ratelimit
from core.http import client_address

if TYPE_CHECKING:
    # rest_framework.views reads DEFAULT_THROTTLE_CLASSES, naming this module, as it loads.
    from rest_framework.request import Request
    from rest_framework.views import APIView

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Scopes whose requests go through when the cache is down: the API-wide guard and provider
# callbacks must not fail with it; sign-up and sign-in codes are refused rather than unguarded.
FAIL_OPEN_SCOPES = frozenset({"anon", "webhook"})


def _rate(scope: str) -> tuple[int, int]:
    try:
        count, period = str(api_settings.DEFAULT_THROTTLE_RATES[scope]).split("/")
        return int(count), PERIODS[period.strip()[0]]
    except (KeyError, ValueError, IndexError):
        raise ImproperlyConfigured(
            f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'][{scope!r}] must read like '20/hour'."
        ) from None


class ClientAddressThrottle(BaseThrottle):
    """Allows `rate` requests per client address and fixed window for one scope."""

    def __init__(self) -> None:
        self.window_seconds = 0

    def scope_for(self, request: "Request", view: "APIView") -> str | None:
        """The scope counting this request, or None to let it through uncounted."""
        raise NotImplementedError

    def get_ident(self, request: "Request") -> str:
        # An address that is not an IP (a misconfigured server) is one shared client, counted.
        return client_address(request) or "unknown"

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        scope = self.scope_for(request, view)
        if scope is None:
            return True
        limit, self.window_seconds = _rate(scope)
        return ratelimit.hit(
            key=ratelimit.hashed_key(f"throttle-{scope}", self.get_ident(request)),
            limit=limit,
            window_seconds=self.window_seconds,
            fail_open=scope in FAIL_OPEN_SCOPES,
        )

    def wait(self) -> float | None:
        if not self.window_seconds:
            return None
        return self.window_seconds - time.time() % self.window_seconds


class ScopedRateThrottle(ClientAddressThrottle):
    """DRF's scoped throttle: the view's `throttle_scope` names the rate."""

    def scope_for(self, request: "Request", view: "APIView") -> str | None:
        scope: Any = getattr(view, "throttle_scope", None)
        return str(scope) if scope else None


class AnonRateThrottle(ClientAddressThrottle):
    """The API-wide guard (`THROTTLE_ANON`) on callers without a staff account: the public
    pages of the API and citizens' own calls. Staff are accountable by name and not counted."""

    def scope_for(self, request: "Request", view: "APIView") -> str | None:
        return None if request.user and request.user.is_authenticated else "anon"
