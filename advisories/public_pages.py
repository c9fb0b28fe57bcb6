"""Which public pages a publication changes: the scopes of core.public_cache. The pages listing
every country (the index, the Atom feed, the countries API's list) change with any publication;
a country's pages (its advice, history, comparisons, CAP, API detail) with its own."""

from collections.abc import Callable
from typing import Any

from django.db import transaction

from core.public_cache import public_page, stamps_bump

ALL_COUNTRIES = "advisories"


def country_scope(code: str) -> str:
    return f"advisories:{code.upper()}"


def _scope(code: str | None = None, **_: Any) -> str:
    return ALL_COUNTRIES if code is None else country_scope(code)


def published_page[ViewT: Callable[..., Any]](view: ViewT) -> ViewT:
    """A public page or feed served from the cache of the current publication."""
    return public_page(scope=_scope)(view)


def published_api[ViewT: Callable[..., Any]](view: ViewT) -> ViewT:
    """The same for an API view, whose renderer may follow the Accept header."""
    return public_page(scope=_scope, vary_on_accept=True)(view)


def public_pages_changed(*, country_code: str) -> None:
    """The country's pages and the lists of every country change with this transaction: their
    cached renderings are left behind once it commits (never before, or a reader could cache
    the old content under the new stamp)."""
    transaction.on_commit(lambda: stamps_bump(ALL_COUNTRIES, country_scope(country_code)))
