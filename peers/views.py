"""Staff pages of the partners' advice: every country of the staff member's posts, and one
country's partners side by side with ours. Partner advice is public and names no one, so every
role of a post sees its countries; a country of no post of theirs answers 404."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User
from core.http import staff_view
from peers import selectors


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - staff_view lets only staff in
    return request.user


@staff_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    codes = selectors.peer_country_codes_for_staff(user=_user(request))
    statuses = selectors.sources_status()
    countries = selectors.partner_levels_of_countries(country_codes=codes, statuses=statuses)
    return render(request, "peers/overview.html", {"countries": countries, "sources": statuses})


@staff_view
@require_GET
def country(request: HttpRequest, country_code: str) -> HttpResponse:
    if len(country_code) != 2 or not selectors.peer_country_visible(
        user=_user(request), country_code=country_code
    ):
        raise Http404
    statuses = selectors.sources_status()
    levels = selectors.partner_levels(country_code=country_code, statuses=statuses)
    if levels is None:
        raise Http404
    return render(request, "peers/country.html", {"partner_levels": levels, "sources": statuses})
