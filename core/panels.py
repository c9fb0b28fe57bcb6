"""Sections that an app above adds to a page of an app below, which cannot import it.

The cases app, say, shows an open safety check on the citizen's own page, which registrations
renders. A panel returns HTML it has escaped itself (a rendered template) or an empty string;
apps register theirs from their `AppConfig.ready()`."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[..., str]

_panels: dict[str, list[Panel]] = {}


def register(page: str, panel: Panel) -> None:
    panels = _panels.setdefault(page, [])
    if panel not in panels:
        panels.append(panel)


def render_panels(page: str, request: HttpRequest, **context: Any) -> SafeString:
    """Every panel of the page, in registration order."""
    return mark_safe("".join(panel(request, **context) for panel in _panels.get(page, [])))  # noqa: S308 - panels render templates, which escape
