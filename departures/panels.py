"""What the citizen's own page (rendered by registrations) shows of an assisted departure:
the operation where they are, their intent, and the seat offers to answer."""

import uuid

from django.http import HttpRequest
from django.template.loader import render_to_string

from departures import passes, selectors
from departures.models import Offer
from registrations.selectors import citizen_get


def manage_panel(request: HttpRequest, *, citizen_id: uuid.UUID, token: str) -> str:
    operation = selectors.operation_for_citizen(citizen_id=citizen_id)
    if operation is None:
        return ""
    citizen = citizen_get(citizen_id=citizen_id)
    language = "fr" if citizen is not None and citizen.language == "fr" else "en"
    offers = list(
        selectors.offers_of_citizen(citizen_id=citizen_id).filter(option__operation=operation)
    )
    accepted = next((offer for offer in offers if offer.state == Offer.State.ACCEPTED), None)
    return render_to_string(
        "departures/_manage_panel.html",
        {
            "operation": operation,
            "assembly_instructions": operation.text("assembly_instructions", language),
            "intent": selectors.intent_of_citizen(citizen_id=citizen_id, operation=operation),
            "offers": offers,
            "token": token,
            # The boarding pass of the confirmed seats, and whether the party has boarded
            # (then the page asks them to say when they arrive).
            "pass_svg": passes.reference_qrcode_svg(accepted.reference) if accepted else "",
            "boarded": accepted is not None and selectors.offer_boarded(offer=accepted),
        },
        request=request,
    )
