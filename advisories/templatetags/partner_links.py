"""Links to what partner governments advise for a country, for the public advisory page.

Off by default: `settings.ADVISORY_PARTNER_LINKS` lists them, each a name and a URL pattern
with `{iso2}` (the ISO 3166-1 code, lower case) or `{slug}` (the country's English name as a
URL slug), e.g. ("United Kingdom", "https://www.gov.uk/foreign-travel-advice/{slug}"). The page
places them with `{% load partner_links %}{% partner_links country %}`. Advisories reads its own
setting: the partners' levels are the peers app's, a layer above, which this page never asks."""

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext as _

from regions.models import Country

register = template.Library()


def partner_links_for(country: Country) -> list[tuple[str, str]]:
    values = {"iso2": country.code.lower(), "slug": slugify(country.name_en)}
    return [(name, pattern.format(**values)) for name, pattern in settings.ADVISORY_PARTNER_LINKS]


@register.simple_tag
def partner_links(country: Country) -> SafeString:
    links = partner_links_for(country)
    if not links:
        return SafeString("")
    items = format_html_join(
        "", '<li><a href="{}" rel="noopener noreferrer">{}</a></li>', ((u, n) for n, u in links)
    )
    return format_html(
        '<section class="partner-links"><h2>{}</h2><ul>{}</ul></section>',
        _("What partners advise"),
        items,
    )
