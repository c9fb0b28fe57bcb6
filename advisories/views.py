"""Public pages: thin views over the selectors, rendered on the server for small screens."""

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from accounts.selectors import posts_covering_country
from advisories.cap import advisory_cap
from advisories.compare import advisories_compare
from advisories.models import Advisory, Indicator
from advisories.public_pages import published_page
from advisories.selectors import (
    advisories_public,
    advisory_current,
    advisory_history,
    countries_with_levels,
    regions_with_levels,
)
from regions.models import Country
from regions.selectors import country_get


def _country_or_404(code: str) -> Country:
    country = country_get(code=code) if len(code) == 2 else None
    if country is None:
        raise Http404
    return country


@require_GET
@published_page
def advisory_list(request: HttpRequest) -> HttpResponse:
    countries = countries_with_levels()
    # Countries with an advisory come first: they are what most readers look for.
    return render(
        request,
        "advisories/list.html",
        {
            "with_advisory": [country for country in countries if country.level is not None],
            "without_advisory": [country for country in countries if country.level is None],
        },
    )


@require_GET
@published_page
def country_page(request: HttpRequest, code: str) -> HttpResponse:
    country = _country_or_404(code)
    advisory = advisory_current(country_code=country.code)
    context: dict[str, object] = {
        "country": country,
        "advisory": advisory,
        "posts": posts_covering_country(country_code=country.code),
    }
    if advisory is not None:
        labels = dict(Indicator.choices)
        context["regions"] = regions_with_levels(advisory=advisory)
        context["indicators"] = [labels[code] for code in advisory.indicators if code in labels]
        context["texts"] = {
            name: advisory.localized(name) for name in ("summary", "body", "instructions")
        } | {"assistance_note": advisory.localized("assistance_note")}
    return render(request, "advisories/country.html", context)


@require_GET
@published_page
def history_page(request: HttpRequest, code: str) -> HttpResponse:
    country = _country_or_404(code)
    versions = list(advisory_history(country_code=country.code))
    # Each version is compared with the one published before it.
    pairs = [
        (version, versions[index + 1] if index + 1 < len(versions) else None)
        for index, version in enumerate(versions)
    ]
    return render(request, "advisories/history.html", {"country": country, "pairs": pairs})


@require_GET
@published_page
def compare_page(request: HttpRequest, code: str, old_id: UUID, new_id: UUID) -> HttpResponse:
    country = _country_or_404(code)
    found = {
        advisory.pk: advisory
        for advisory in advisories_public().filter(country=country, pk__in=[old_id, new_id])
    }
    if old_id not in found or new_id not in found:
        raise Http404
    comparison = advisories_compare(
        old=found[old_id], new=found[new_id], language=get_language() or "en"
    )
    return render(
        request, "advisories/compare.html", {"country": country, "comparison": comparison}
    )


@require_GET
@published_page
def cap_feed(request: HttpRequest, code: str) -> HttpResponse:
    """The CAP message of the country's latest publication: its current version, or a Cancel
    when the last one was withdrawn."""
    country = _country_or_404(code)
    latest = (
        advisories_public()
        .filter(country=country, status__in=[Advisory.Status.PUBLISHED, Advisory.Status.WITHDRAWN])
        .order_by("-published_at")
        .first()
    )
    if latest is None:
        raise Http404
    return HttpResponse(advisory_cap(advisory=latest), content_type="application/cap+xml")
