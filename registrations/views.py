"""Citizen pages: server-rendered, mobile-first, no JavaScript needed. Citizens have no
account: the manage pages are reached by a signed link emailed to them."""

import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms import formset_factory
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core import panels
from core.exceptions import ApplicationError
from registrations import forms, selectors, services, tokens
from registrations.models import Citizen

REFRESH = "show_regions"
ADD_LEG = "add_leg"


def _language() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


def _initial(form_class: Any, data: Any, prefix: str) -> dict[str, Any]:
    """What was typed, as initial values: "Show regions" redraws the form without errors."""
    return {
        name: data.get(f"{prefix}-{name}")
        for name in form_class.base_fields
        if data.get(f"{prefix}-{name}") not in (None, "")
    }


def _initial_rows(form_class: Any, data: Any, prefix: str) -> list[dict[str, Any]]:
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS", 0)), services.MAX_TRIP_LEGS)
    except ValueError:
        total = 0
    rows = [_initial(form_class, data, f"{prefix}-{index}") for index in range(total)]
    return [row for row in rows if row]


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    person_initial: dict[str, Any] = {"language": _language(), "notify_by_email": True}
    presence_initial: dict[str, Any] = {"kind": "residence"}
    household_initial = None
    if data is not None and REFRESH in data:
        person_initial = _initial(forms.RegistrationForm, data, "person")
        presence_initial = _initial(forms.PresenceForm, data, "presence")
        household_initial = _initial_rows(forms.HouseholdMemberForm, data, "household")
        data = None
    person = forms.RegistrationForm(data, prefix="person", initial=person_initial)
    presence = forms.PresenceForm(data, prefix="presence", initial=presence_initial)
    household = forms.HouseholdFormSet(data, prefix="household", initial=household_initial)
    if data is not None:
        valid = all([person.is_valid(), presence.is_valid(), household.is_valid()])
        if valid:
            try:
                kept = forms.household_kept(household)
                services.citizen_register(
                    person=person.person(),
                    household=[form.member() for form in kept],
                    presence=presence.presence(),
                    kind=presence.cleaned_data["kind"],
                    consent=person.cleaned_data["consent"],
                )
            except ApplicationError as error:
                forms.apply_error(
                    error, {"presence": presence, "": person}, {"household": (household, kept)}
                )
            else:
                return redirect("registrations:register_done")
    return render(
        request,
        "registrations/register.html",
        {
            "person": person,
            "presence": presence,
            "household": household,
            "refresh": REFRESH,
            "consent_version": services.CONSENT_VERSION,
            "trip_days": _retention_days(),
        },
    )


def _retention_days() -> int:
    return int(settings.RETENTION_TRIP_DAYS)


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "registrations/register_done.html")


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        citizen = services.email_verify(token=token)
    except ApplicationError:
        return render(request, "registrations/link_invalid.html", status=400)
    return render(
        request,
        "registrations/verify_email_done.html",
        {
            "manage_url": reverse(
                "registrations:manage", kwargs={"token": tokens.manage_token(citizen.id)}
            )
        },
    )


@require_http_methods(["GET", "POST"])
def manage_request(request: HttpRequest) -> HttpResponse:
    form = forms.EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.manage_link_request(email=form.cleaned_data["email"])
        # The same page whether or not the address is registered.
        return render(request, "registrations/manage_request.html", {"sent": True})
    return render(request, "registrations/manage_request.html", {"form": form})


def _citizen(token: str) -> Citizen | None:
    citizen_id = tokens.manage_token_citizen_id(token)
    return selectors.citizen_get(citizen_id=citizen_id) if citizen_id else None


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "registrations/link_invalid.html", status=404)


@never_cache
def manage(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    today = timezone.localdate()
    presences = list(selectors.presences_of_citizen(citizen=citizen))
    return render(
        request,
        "registrations/manage.html",
        {
            "citizen": citizen,
            "token": token,
            "household": citizen.household_members.all(),
            "presences": presences,
            "today": today,
            # Sections of the apps above (an open safety check, a way to ask for help).
            "panels": panels.render_panels(
                "citizen_manage", request, citizen_id=citizen.id, token=token
            ),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def manage_edit(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    data = request.POST if request.method == "POST" else None
    initial = {name: getattr(citizen, name) for name in forms.PersonForm.base_fields}
    person = forms.PersonForm(data, prefix="person", initial=initial)
    household = forms.HouseholdFormSet(
        data,
        prefix="household",
        initial=[
            {
                "name": member.name,
                "relation": member.relation,
                "date_of_birth": member.date_of_birth,
                "phone": member.phone,
            }
            for member in citizen.household_members.all()
        ],
    )
    if data is not None and person.is_valid() and household.is_valid():
        kept = forms.household_kept(household)
        try:
            with transaction.atomic():
                services.citizen_update(citizen=citizen, person=person.person())
                services.household_replace(
                    citizen=citizen, household=[form.member() for form in kept]
                )
        except ApplicationError as error:
            forms.apply_error(error, {"": person}, {"household": (household, kept)})
        else:
            return redirect("registrations:manage", token=token)
    return render(
        request,
        "registrations/manage_edit.html",
        {"person": person, "household": household, "token": token},
    )


LegFormSet = formset_factory(
    forms.PresenceForm, extra=0, min_num=1, max_num=services.MAX_TRIP_LEGS, validate_min=True
)
# The same with one blank leg after those typed so far ("Add another destination").
LegFormSetPlusOne = formset_factory(
    forms.PresenceForm, extra=1, min_num=1, max_num=services.MAX_TRIP_LEGS, validate_min=True
)


@never_cache
@require_http_methods(["GET", "POST"])
def trip_new(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    data = request.POST if request.method == "POST" else None
    initial = None
    formset_class = LegFormSet
    # "Show regions" and "Add another destination" redraw the legs typed so far, without errors.
    if data is not None and (REFRESH in data or ADD_LEG in data):
        initial = _initial_rows(forms.PresenceForm, data, "legs")
        if ADD_LEG in data:
            formset_class = LegFormSetPlusOne
        data = None
    legs = formset_class(data, prefix="legs", form_kwargs={"with_kind": False}, initial=initial)
    if data is not None and legs.is_valid():
        kept = [form for form in legs.forms if form.cleaned_data]
        try:
            services.trip_add(citizen=citizen, legs=[form.presence() for form in kept])
        except ApplicationError as error:
            forms.apply_error(error, {}, {"legs": (legs, kept)}, default=legs.forms[0])
        else:
            return redirect("registrations:manage", token=token)
    return render(
        request,
        "registrations/trip_new.html",
        {"legs": legs, "token": token, "refresh": REFRESH, "add_leg": ADD_LEG},
    )


@require_POST
def presence_leave(request: HttpRequest, token: str, presence_id: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    try:
        services.presence_check_out(citizen=citizen, presence_id=presence_id)
    except ApplicationError:
        return _invalid(request)
    return redirect("registrations:manage", token=token)


@never_cache
@require_http_methods(["GET", "POST"])
def verify_phone(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    form = forms.PhoneCodeForm()
    sent = False
    if request.method == "POST" and "send" in request.POST:
        try:
            services.phone_verification_request(citizen=citizen)
            sent = True
        except ApplicationError as error:
            form.add_error(None, str(error.message))
    elif request.method == "POST":
        form = forms.PhoneCodeForm(request.POST)
        if form.is_valid():
            try:
                services.phone_verify(citizen=citizen, code=form.cleaned_data["code"])
            except ApplicationError as error:
                form.add_error("code", str(error.message))
            else:
                return redirect("registrations:manage", token=token)
    return render(
        request,
        "registrations/verify_phone.html",
        {"citizen": citizen, "form": form, "token": token, "sent": sent},
    )


@require_POST
def resend_email(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    services.email_verification_request(citizen=citizen)
    return redirect("registrations:manage", token=token)


@require_POST
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    services.citizen_confirm(citizen=citizen)
    return redirect("registrations:manage", token=token)


@never_cache
def export(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    body = json.dumps(selectors.citizen_export(citizen=citizen), cls=DjangoJSONEncoder, indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-registration.json"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, token: str) -> HttpResponse:
    citizen = _citizen(token)
    if citizen is None:
        return _invalid(request)
    if request.method == "POST":
        services.citizen_delete(citizen=citizen)
        return render(request, "registrations/deleted.html")
    context: dict[str, Any] = {"citizen": citizen, "token": token}
    return render(request, "registrations/delete.html", context)
