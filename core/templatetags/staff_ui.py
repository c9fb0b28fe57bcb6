"""The staff pages' small vocabulary: a state as a badge (colour and its words, never colour
alone) and a time in the zone in force, named."""

import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()

# The tone of each state word the apps use; a state not listed reads neutral. Danger: someone
# may be hurt or was not reached; warn: waiting on us; ok: done well.
TONES = {
    "danger": {"needs_help", "failed", "bounced", "priority-4", "no_response", "ambiguous"},
    "warn": {"new", "pending", "awaiting_approval", "priority-3", "sending", "fanning_out"},
    "info": {"open", "contacted", "in_progress", "sent"},
    "ok": {"safe", "delivered", "resolved", "done"},
    "neutral": {"draft", "closed", "cancelled", "suppressed"},
}
_TONE_OF = {state: tone for tone, states in TONES.items() for state in states}


@register.simple_tag
def badge(state: object, label: object, prefix: str = "") -> str:
    """A state's badge: `{% badge case.status case.get_status_display %}`; `prefix` names the
    scale of a number (`prefix="priority-"`)."""
    state = f"{prefix}{state}"
    tone = _TONE_OF.get(state, "neutral")
    return format_html('<span class="badge badge-{}" data-state="{}">{}</span>', tone, state, label)


@register.simple_tag
def when(moment: datetime.datetime | None, empty: str = "—") -> str:
    """A time in the current zone (the post's, on staff pages), with the zone's name."""
    if moment is None:
        return empty
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}">{}</time>', moment.isoformat(), date_format(local, "Y-m-d H:i T")
    )


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    """`{{ names|get_item:code }}`: a dictionary's value by a variable key (the key itself
    when missing, so a name never renders blank)."""
    return mapping.get(key, key)


@register.filter
def duration(seconds: int | None) -> str:
    """A wait in words a reader takes in at a glance: "45 s", "3 min", "2 h 5 min"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("%(hours)s h %(minutes)s min") % {"hours": minutes // 60, "minutes": minutes % 60}
