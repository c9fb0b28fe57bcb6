"""The crisis console's pages. Only consular staff of a post covering the country see them;
anyone else gets 404 for the country, as if it had no console."""

import csv

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.models import User
from console import selectors
from console.alerts import alert_for_console, alert_page, alert_progress_view, people_to_phone
from core.audit import Action, audit_record
from core.exceptions import ApplicationError
from core.http import staff_view
from core.spreadsheets import safe_cell
from notifications.alerts import alert_cancel, alert_resend_failed
from notifications.models import Alert
from peers.selectors import partner_levels

# How often a sending alert's page asks for its progress.
PROGRESS_POLL_SECONDS = 3
ALERT_ACTIONS = ("resend_failed", "cancel")


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
    layer = request.GET.get("layer", "level")
    return render(
        request,
        "console/country.html",
        {
            "console": console,
            "layer": layer if layer in MAP_LAYERS else "level",
            # What partner governments advise beside ours: a move of theirs is a warning.
            "partner_levels": partner_levels(country_code=console.code),
        },
    )


# What the map's tiles show: the advisory level, the open checks' answers, or the people
# nobody can write to. Links switch between them, without a script.
MAP_LAYERS = ("level", "check", "unreachable")


@staff_view
@require_http_methods(["GET", "POST"])
def alert(request: HttpRequest, alert_id: str) -> HttpResponse:
    """An alert's progress, failures and people to phone; resend to the failed or cancel,
    each after a confirmation step (`?confirm=<action>` shows it, without any script)."""
    user = _user(request)
    found = alert_for_console(user=user, alert_id=alert_id)
    if found is None:
        raise Http404
    if request.method == "POST":
        _alert_action(request, found, request.POST.get("action", ""))
        return redirect("console:alert", alert_id=found.id)
    confirm = request.GET.get("confirm", "")
    page = alert_page(alert=found)
    # The page lists people by name and number.
    audit_record(request=request, action=Action.VIEW, obj=found, detail={"via": "staff"})
    return render(
        request,
        "console/alert.html",
        {
            "page": page,
            "progress": page.progress,
            "confirm": confirm if confirm in ALERT_ACTIONS else "",
            "poll_seconds": PROGRESS_POLL_SECONDS,
        },
    )


def _alert_action(request: HttpRequest, found: Alert, action: str) -> None:
    user = _user(request)
    try:
        if action == "resend_failed":
            count = alert_resend_failed(alert=found, actor=user)
            messages.success(
                request,
                ngettext(
                    "%(count)s failed message is sent again.",
                    "%(count)s failed messages are sent again.",
                    count,
                )
                % {"count": count},
            )
        elif action == "cancel":
            alert_cancel(alert=found, cancelled_by=user)
            messages.success(
                request, _("The alert is cancelled: the messages still waiting will not leave.")
            )
        else:
            messages.error(request, _("Choose an action."))
    except ApplicationError as error:
        messages.error(request, str(error.message))


@staff_view
@require_http_methods(["GET"])
def alert_progress(request: HttpRequest, alert_id: str) -> HttpResponse:
    """The progress part of an alert's page, which the page polls while the alert sends."""
    found = alert_for_console(user=_user(request), alert_id=alert_id)
    if found is None:
        raise Http404
    return render(
        request,
        "console/_alert_progress.html",
        {"progress": alert_progress_view(alert=found), "poll_seconds": PROGRESS_POLL_SECONDS},
    )


@staff_view
@require_http_methods(["GET"])
def alert_to_phone(request: HttpRequest, alert_id: str) -> HttpResponse:
    """The people none of whose messages got through, with their numbers, for a phone bank;
    recorded in the audit trail."""
    found = alert_for_console(user=_user(request), alert_id=alert_id)
    if found is None:
        raise Http404
    audit_record(
        request=request,
        action=Action.EXPORT,
        obj=found,
        detail={"via": "staff", "list": "to_phone"},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="alert-{found.id}-to-phone.csv"'
    writer = csv.writer(response)
    writer.writerow(["given_name", "phone", "language"])
    for person in people_to_phone(alert=found):
        writer.writerow([safe_cell(person.given_name), safe_cell(person.phone), person.language])
    return response
