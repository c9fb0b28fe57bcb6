"""Staff read times in their post's time zone."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.selectors import staff_time_zone


class StaffTimeZoneMiddleware:
    """Activates the time zone of the staff member's post for the request (the first of
    their posts by name when they have several); everyone else reads UTC. Citizens' pages
    name no time of day in a zone of ours, so they are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            timezone.activate(zoneinfo.ZoneInfo(staff_time_zone(user=user)))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
