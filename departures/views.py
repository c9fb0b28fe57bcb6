"""The citizen's pages of an assisted departure, reached from their manage page by the same
signed link: the intent form, and the answer to a seat offer."""

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.http import no_store
from departures import selectors
from departures.forms import SELF, IntentForm, initial_of
from departures.services import boarding, intents, offers
from regions.selectors import region_codes_of_country, region_names
from registrations import tokens
from registrations.selectors import citizen_get, household_members_of_citizen


def _citizen_id(token: str) -> uuid.UUID:
    citizen_id = tokens.manage_token_citizen_id(token)
    if citizen_id is None or citizen_get(citizen_id=citizen_id) is None:
        raise Http404
    return uuid.UUID(citizen_id)


@no_store
@require_http_methods(["GET", "POST"])
def intent(request: HttpRequest, token: str) -> HttpResponse:
    """ "I want to leave": the short form, stated once and changed as often as needed."""
    citizen_id = _citizen_id(token)
    citizen = citizen_get(citizen_id=citizen_id)
    assert citizen is not None  # noqa: S101 - checked by _citizen_id
    operation = selectors.operation_for_citizen(citizen_id=citizen.id)
    if operation is None:
        raise Http404
    people = [(SELF, _("Me (%(name)s)") % {"name": citizen})] + [
        (str(member.id), member.name)
        for member in household_members_of_citizen(citizen_id=citizen.id)
    ]
    codes = operation.region_codes or region_codes_of_country(country_code=operation.country_id)
    regions = sorted(region_names(codes=codes).items(), key=lambda item: item[1])
    stated = selectors.intent_of_citizen(citizen_id=citizen.id, operation=operation)
    form = IntentForm(
        request.POST if request.method == "POST" else None,
        people=people,
        regions=regions,
        initial=initial_of(stated, people=people),
    )
    if request.method == "POST" and form.is_valid():
        try:
            intents.intent_submit(
                citizen_id=citizen.id, operation=operation, fields=form.intent_fields()
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            return redirect("registrations:manage", token=token)
    language = "fr" if citizen.language == "fr" else "en"
    return render(
        request,
        "departures/intent.html",
        {
            "form": form,
            "token": token,
            "operation": operation,
            "eligibility": operation.text("eligibility", language),
            "baggage_policy": operation.text("baggage_policy", language),
            "stated": stated,
        },
    )


@no_store
@require_POST
def offer_answer(request: HttpRequest, token: str, offer_id: uuid.UUID) -> HttpResponse:
    """ACCEPT or DECLINE from the manage page; a refusal is shown, nothing changed."""
    citizen_id = _citizen_id(token)
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        raise Http404
    answer_offer = offers.offer_accept if answer == "accept" else offers.offer_decline
    try:
        answer_offer(offer_id=offer_id, citizen_id=citizen_id)
    except ApplicationError as error:
        return render(
            request,
            "departures/offer_refused.html",
            {"message": error.message, "token": token},
            status=error.status_code,
        )
    return redirect("registrations:manage", token=token)


@no_store
@require_POST
def offer_arrived(request: HttpRequest, token: str, offer_id: uuid.UUID) -> HttpResponse:
    """ "I have arrived", once the party boarded; a refusal is shown, nothing changed."""
    citizen_id = _citizen_id(token)
    try:
        boarding.offer_arrived(offer_id=offer_id, citizen_id=citizen_id)
    except ApplicationError as error:
        return render(
            request,
            "departures/offer_refused.html",
            {"message": error.message, "token": token},
            status=error.status_code,
        )
    return redirect("registrations:manage", token=token)
