import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from departures.models import DepartureOperation, DepartureOption, Intent
from departures.services import intents, operations, options
from registrations.models import Citizen, HouseholdMember
from tests.accounts.factories import PostFactory, staff_at
from tests.registrations.factories import CitizenFactory, HouseholdMemberFactory


@pytest.fixture
def officer(geography) -> User:
    PostFactory(code="post-ml", name="Embassy in Bamako", countries=["ML"])
    return staff_at("ML", Membership.Role.OFFICER, username="bamako-officer")


@pytest.fixture
def second_officer(officer) -> User:
    return staff_at("ML", Membership.Role.OFFICER, username="bamako-second")


def operation_fields(**fields) -> operations.OperationFields:
    values = {
        "eligibility_en": "Nationals and their registered household.",
        "eligibility_fr": "Les ressortissants et leur foyer enregistré.",
        "baggage_policy_en": "One bag of 15 kg. Small pets in a carrier.",
        "baggage_policy_fr": "Un sac de 15 kg. Petits animaux en cage.",
        "assembly_instructions_en": "Bring your passport.",
        "assembly_instructions_fr": "Apportez votre passeport.",
        **fields,
    }
    return operations.OperationFields(**values)


def open_operation(officer, second, **fields) -> DepartureOperation:
    operation = operations.operation_open(
        opened_by=officer, country_code="ML", fields=operation_fields(**fields)
    )
    operations.operation_submit(operation=operation, submitted_by=officer)
    return operations.operation_approve(operation=operation, approver=second)


@pytest.fixture
def operation(officer, second_officer) -> DepartureOperation:
    return open_operation(officer, second_officer)


def option_fields(**fields) -> options.OptionFields:
    now = timezone.now()
    values = {
        "kind": "flight",
        "departs_at": now + datetime.timedelta(days=2),
        "place": "Bamako-Sénou airport",
        "assembly_point": "Embassy car park",
        "capacity": 150,
        "booking_cutoff": now + datetime.timedelta(days=1),
        **fields,
    }
    return options.OptionFields(**values)


def add_option(operation, officer, **fields) -> DepartureOption:
    return options.option_add(operation=operation, added_by=officer, fields=option_fields(**fields))


def citizen(*, household: int = 0, born: datetime.date | None = None, **fields):
    person = CitizenFactory(date_of_birth=born or datetime.date(1985, 1, 1), **fields)
    for n in range(household):
        HouseholdMemberFactory(
            citizen=person, name=f"Member {n}", date_of_birth=datetime.date(1990, 1, 1)
        )
    return person


def members(person: Citizen) -> list[HouseholdMember]:
    return list(HouseholdMember.objects.filter(citizen=person).order_by("created_at"))


def submit(operation, person: Citizen, *, everyone: bool = True, **fields) -> Intent:
    travellers = [intents.TravellerFields(nationality="ML", document_type="passport")]
    if everyone:
        travellers += [
            intents.TravellerFields(household_member_id=member.id) for member in members(person)
        ]
    values = {
        "travellers": travellers,
        "earliest_date": timezone.localdate(),
        "region_code": "ML-7",
        **fields,
    }
    return intents.intent_submit(
        citizen_id=person.id, operation=operation, fields=intents.IntentFields(**values)
    )
