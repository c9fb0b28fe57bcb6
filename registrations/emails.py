"""The emails a citizen is sent about their registration, written in their language."""

from django.template.loader import render_to_string
from django.utils import translation

from registrations.models import Citizen


def citizen_email_text(
    citizen: Citizen, template: str, context: dict[str, object]
) -> tuple[str, str]:
    """The subject and body of `registrations/email/<template>.txt`, for the citizen."""
    with translation.override(citizen.language):
        context = {"citizen": citizen, **context}
        subject = render_to_string(f"registrations/email/{template}_subject.txt", context)
        body = render_to_string(f"registrations/email/{template}.txt", context)
    return " ".join(subject.split()), body
