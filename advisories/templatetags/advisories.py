from django import template
from django.utils.translation import get_language

from advisories.levels import level_colour, level_name

register = template.Library()


@register.inclusion_tag("advisories/_level.html")
def level_chip(level: int | None) -> dict[str, object]:
    """A level's colour chip, named in the active language's scheme."""
    if level is None:
        return {"level": None}
    return {
        "level": level,
        "name": level_name(level=level, language=get_language() or "en"),
        "colour": level_colour(level=level),
    }
