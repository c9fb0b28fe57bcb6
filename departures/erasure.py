"""The departures' eraser (see `core.personal_data`): what a citizen's erasure leaves of their
intents to leave, their travellers and their seat offers."""

import uuid

from core.crypto import rows_update
from departures.models import Intent, Traveller


def citizens_departure_erase(citizen_ids: list[uuid.UUID]) -> dict[str, int]:
    """Run before the citizen rows go. The operation's counts and each option's manifest keep
    their size: intents stay without the person or what they wrote about their needs;
    travellers stay without their nationality, travel document or household member; offers
    and boardings hold no personal data and stay as they are, under the anonymous intent."""
    intent_ids = list(
        Intent.objects.filter(citizen_id__in=citizen_ids).values_list("id", flat=True)
    )
    travellers = rows_update(
        Traveller.objects.filter(intent_id__in=intent_ids),
        household_member=None,
        nationality="",
        document_type="",
        document_number="",
        document_expiry=None,
    )
    intents = rows_update(
        Intent.objects.filter(id__in=intent_ids), citizen=None, assistance_details=""
    )
    return {"departures.intent": intents, "departures.traveller": travellers}
