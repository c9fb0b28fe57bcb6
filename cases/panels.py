"""What the citizen's own page (rendered by registrations) shows of cases: the open safety
check with its answer links, and a way to ask for help at any time."""

import datetime
import uuid

from django.core import signing
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from cases.selectors import open_check_of_citizen, response_of
from notifications.rendering import response_token

ASK_HELP_SALT = "cases.ask-help"
# The link is made each time the citizen's page is shown: it needs to live only as long as a
# visit.
ASK_HELP_MAX_AGE = datetime.timedelta(hours=2)


def ask_help_token(citizen_id: uuid.UUID) -> str:
    return signing.dumps(str(citizen_id), salt=ASK_HELP_SALT, compress=True)


def ask_help_citizen_id(token: str) -> str | None:
    try:
        return str(signing.loads(token, salt=ASK_HELP_SALT, max_age=ASK_HELP_MAX_AGE))
    except signing.BadSignature:
        return None


def manage_panel(request: HttpRequest, *, citizen_id: uuid.UUID, token: str) -> str:
    check = open_check_of_citizen(citizen_id=citizen_id)
    answer_token = ""
    response = None
    if check is not None and check.question_alert_id is not None:
        answer_token = response_token(alert_id=check.question_alert_id, citizen_id=citizen_id)
        response = response_of(check=check, citizen_id=citizen_id)
    return render_to_string(
        "cases/_manage_panel.html",
        {
            "check": check,
            "response": response,
            "answer_token": answer_token,
            "ask_help_url": reverse("cases:ask_help", args=[ask_help_token(citizen_id)]),
        },
        request=request,
    )
