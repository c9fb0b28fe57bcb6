import datetime

import pytest
from django.db import connection
from django.utils import timezone

from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from departures.models import Intent, Traveller
from departures.services import intents, operations
from tests.departures.conftest import citizen, members, submit

pytestmark = pytest.mark.django_db


def test_a_second_submission_updates_the_first(operation):
    person = citizen(household=2)
    first = submit(operation, person)

    second = submit(operation, person, everyone=False, region_code="ML-1")

    assert Intent.objects.count() == 1
    assert second.id == first.id
    assert (second.people, second.region_id) == (1, "ML-1")
    assert second.submitted_at == first.submitted_at  # keeps its place in the queue
    assert Traveller.objects.filter(intent=first).count() == 1


def test_a_household_member_of_another_citizen_is_refused_and_nothing_is_written(operation):
    person, other = citizen(), citizen(household=1)
    travellers = [intents.TravellerFields(household_member_id=members(other)[0].id)]

    with pytest.raises(ValidationFailed) as refused:
        submit(operation, person, travellers=travellers)

    assert refused.value.field == "travellers"
    assert not Intent.objects.exists()


def test_the_refusal_reads_in_french_for_a_french_reader(operation):
    from django.utils import translation

    person, other = citizen(), citizen(household=1)
    travellers = [intents.TravellerFields(household_member_id=members(other)[0].id)]

    with translation.override("fr"), pytest.raises(ValidationFailed) as refused:
        submit(operation, person, travellers=travellers)

    assert "foyer" in str(refused.value.message)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"travellers": []}, "travellers"),
        ({"earliest_date": datetime.date(2020, 1, 1)}, "earliest_date"),
        ({"region_code": "LB-BA"}, "region"),
        (
            {"travellers": [intents.TravellerFields(), intents.TravellerFields()]},
            "travellers",
        ),
        ({"travellers": [intents.TravellerFields(document_type="visa")]}, "document_type"),
    ],
)
def test_bad_input_names_the_field(operation, fields, field):
    with pytest.raises(ValidationFailed) as refused:
        submit(operation, citizen(), **fields)

    assert refused.value.field == field
    assert not Intent.objects.exists()


def test_a_region_outside_the_operations_regions_is_refused(officer, second_officer):
    from tests.departures.conftest import open_operation

    operation = open_operation(officer, second_officer, region_codes=["ML-7"])

    with pytest.raises(ValidationFailed):
        submit(operation, citizen(), region_code="ML-1")
    assert submit(operation, citizen(), region_code="ML-7").region_id == "ML-7"


def test_a_closing_operation_takes_updates_but_no_new_intent(operation, officer):
    early = citizen()
    submit(operation, early)
    operations.operation_close(operation=operation, closed_by=officer)

    assert submit(operation, early, needs_assistance=True).needs_assistance
    with pytest.raises(Conflict):
        submit(operation, citizen())


def test_a_draft_operation_takes_no_intent(officer):
    from tests.departures.conftest import operation_fields

    draft = operations.operation_open(
        opened_by=officer, country_code="ML", fields=operation_fields()
    )

    with pytest.raises(Conflict):
        submit(draft, citizen())


def test_priority_facts_come_from_the_register_and_the_form(operation):
    child = citizen(household=0)
    from tests.registrations.factories import HouseholdMemberFactory

    HouseholdMemberFactory(citizen=child, date_of_birth=timezone.localdate().replace(year=2020))
    elderly = citizen(born=datetime.date(1940, 5, 1))

    assert submit(operation, child).with_children
    assert submit(operation, elderly).elderly_or_pregnant
    assert submit(operation, citizen(), pregnant=True).elderly_or_pregnant
    plain = submit(operation, citizen(), assistance_details="ignored without needs")
    assert (plain.with_children, plain.elderly_or_pregnant, plain.assistance_details) == (
        False,
        False,
        "",
    )


def test_travel_documents_and_needs_are_encrypted_at_rest(operation):
    person = citizen()
    submit(
        operation,
        person,
        travellers=[
            intents.TravellerFields(
                nationality="Malian",
                document_type="passport",
                document_number="AB1234567",
                document_expiry=datetime.date(2030, 1, 1),
            )
        ],
        needs_assistance=True,
        assistance_details="Wheelchair user",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nationality, document_number, document_expiry FROM departures_traveller"
        )
        stored = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT assistance_details FROM departures_intent")
        stored += " " + cursor.fetchone()[0]

    for clear in ("Malian", "AB1234567", "2030", "Wheelchair"):
        assert clear not in stored
    traveller = Traveller.objects.get()
    assert (traveller.document_number, traveller.document_expiry) == (
        "AB1234567",
        datetime.date(2030, 1, 1),
    )


def test_staff_override_a_partys_priority_with_a_reason(operation, officer):
    intent = submit(operation, citizen())
    from accounts.models import Membership
    from tests.accounts.factories import staff_at

    with pytest.raises(ValidationFailed):
        intents.intent_priority_set(intent=intent, set_by=officer, group=1, reason="")
    with pytest.raises(PermissionDenied):
        intents.intent_priority_set(
            intent=intent,
            set_by=staff_at("ML", Membership.Role.EDITOR, username="ml-editor"),
            group=1,
            reason="Heart condition",
        )

    updated = intents.intent_priority_set(
        intent=intent, set_by=officer, group=1, reason="Heart condition"
    )

    assert (updated.priority_override, updated.override_reason) == (1, "Heart condition")
