from django import template

from peers.selectors import CountryPartnerLevels, partner_levels

register = template.Library()


@register.inclusion_tag("peers/_partner_levels.html")
def partner_levels_for(country_code: str) -> dict[str, CountryPartnerLevels | None]:
    """The partners' levels beside ours for one country, for a page whose view does not pass
    them (three queries)."""
    return {"partner_levels": partner_levels(country_code=country_code)}
