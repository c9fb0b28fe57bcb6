"""The crisis console's pages. Only consular staff of a post covering the country see them;
anyone else gets 404 for the country, as if it had no console."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from console import selectors
from core.http import staff_view


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@staff_view
@require_http_methods(["GET"])
def landing(request: HttpRequest) -> HttpResponse:
    """Staff who cover one country land on its console; the others choose."""
    countries = selectors.console_countries(user=_user(request))
    if len(countries) == 1:
        return redirect("console:country", iso2=countries[0][0])
    return render(request, "console/landing.html", {"countries": countries})


@staff_view
@require_http_methods(["GET"])
def country(request: HttpRequest, iso2: str) -> HttpResponse:
    console = selectors.country_console(user=_user(request), country_code=iso2)
    if console is None:
        raise Http404
    return render(request, "console/country.html", {"console": console})
