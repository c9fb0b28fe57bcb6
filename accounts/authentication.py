from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request


class VerifiedSessionAuthentication(SessionAuthentication):
    """The API's session authentication, for staff signed in to the admin: a session counts
    only once its second factor is verified, as on the admin itself. Tokens are unaffected."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        is_verified = getattr(result[0], "is_verified", None)
        if is_verified is None or not is_verified():
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """Documents it in the OpenAPI schema as the cookie session it is."""

    target_class = "accounts.authentication.VerifiedSessionAuthentication"
