"""What the citizen's own page (rendered by registrations) shows of an assisted departure:
the operation where they are, their intent, and the seat offers to answer."""

import uuid

from django.http import HttpRequest
from django.template.loader import render_to_string

from departures import selectors
from registrations.selectors import citizen_get


def manage_panel(request: HttpRequest, *, citizen_id: uuid.UUID, token: str) -> str:
    operation = selectors.operation_for_citizen(citizen_id=citizen_id)
    if operation is None:
        return ""
    citizen = citizen_get(citizen_id=citizen_id)
    language = "fr" if citizen is not None and citizen.language == "fr" else "en"
    return render_to_string(
        "departures/_manage_panel.html",
        {
            "operation": operation,
            "assembly_instructions": operation.text("assembly_instructions", language),
            "intent": selectors.intent_of_citizen(citizen_id=citizen_id, operation=operation),
            "offers": list(
                selectors.offers_of_citizen(citizen_id=citizen_id).filter(
                    option__operation=operation
                )
            ),
            "token": token,
        },
        request=request,
    )
