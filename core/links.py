"""Absolute links that carry a signed token, as messages put them in front of citizens."""

import functools
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation

_SLOT = "0token0"


@functools.lru_cache(maxsize=64)
def _around_token(
    viewname: str, language: str | None, script_prefix: str, urlconf: str | None
) -> tuple[str, str]:
    before, _, after = reverse(viewname, kwargs={"token": _SLOT}).partition(_SLOT)
    return before, after


def token_url(viewname: str, token: str) -> str:
    """`SITE_URL` + `reverse(viewname, kwargs={"token": token})`, the path reversed once per
    view, language and prefix: an alert's hand-off writes two such links into every message,
    and reversing costs more than signing them."""
    before, after = _around_token(
        viewname, translation.get_language(), get_script_prefix(), get_urlconf()
    )
    # Quoted as `reverse` quotes an argument.
    return f"{settings.SITE_URL}{before}{quote(token, safe="!$&'()*+,;=/~:@")}{after}"
