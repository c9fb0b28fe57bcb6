"""The cases' eraser (see `core.personal_data`): what a citizen's erasure leaves of their
safety checks' answers and of their cases."""

import uuid

from django.utils import timezone

from cases.models import Case, CaseEvent, SafetyResponse
from core import personal_data
from core.crypto import rows_update


def citizens_personal_data_erase(citizen_ids: list[uuid.UUID]) -> dict[str, int]:
    """The cases' eraser (see `core.personal_data`), run before the citizen rows go.

    - Safety answers stay, so a check's counts (status, region, people) do not change, but lose
      the link to the person and what they wrote (where they were, the details).
    - Cases stay as the post's record of the help it gave, without the link to the person or
      their household members; the summary and every text of the timeline (but assignments,
      which name staff) become the erased marker, and a line on the timeline says why.
    """
    marker = personal_data.erased_marker()
    responses = SafetyResponse.objects.filter(citizen_id__in=citizen_ids).update(
        citizen=None, location="", details=""
    )
    case_ids = list(Case.objects.filter(citizen_id__in=citizen_ids).values_list("id", flat=True))
    members, _detail = Case.household_members.through.objects.filter(
        householdmember__citizen_id__in=citizen_ids
    ).delete()
    # rows_update: each row's marker is encrypted bound to that row.
    events = rows_update(
        CaseEvent.objects.filter(case_id__in=case_ids)
        .exclude(kind=CaseEvent.Kind.ASSIGNED)
        .exclude(text=""),
        text=marker,
    )
    cases = rows_update(
        Case.objects.filter(id__in=case_ids),
        citizen=None,
        summary=marker,
        updated_at=timezone.now(),
    )
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=case_id, kind=CaseEvent.Kind.ERASED) for case_id in case_ids],
        batch_size=500,
    )
    return {
        "cases.safetyresponse": responses,
        "cases.case": cases,
        "cases.case_household_members": members,
        "cases.caseevent": events,
    }
