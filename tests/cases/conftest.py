import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership, User
from cases.models import SafetyCheck
from cases.services import safety_checks
from notifications.receipts import inbound_record
from registrations.models import Citizen, HouseholdMember
from tests.accounts.factories import PostFactory, staff_at
from tests.notifications.conftest import make_citizen


@pytest.fixture(autouse=True)
def eager_tasks(settings, monkeypatch):
    """Run enqueued tasks inline, so a test follows the whole flow in one process."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def bamako_officer(geography):
    PostFactory(code="post-ml", name="Embassy in Bamako", countries=["ML"])
    return staff_at("ML", Membership.Role.OFFICER, username="bamako-officer")


@pytest.fixture
def beirut_officer(geography):
    PostFactory(code="post-lb", name="Embassy in Beirut", countries=["LB"])
    return staff_at("LB", Membership.Role.OFFICER, username="beirut-officer")


def citizen_in(region_code: str, *, household: int = 0, **fields) -> Citizen:
    citizen = make_citizen(region_code, **fields)
    for n in range(household):
        HouseholdMember.objects.create(citizen=citizen, name=f"Member {n}", relation="child")
    return citizen


def second_person(country_code: str = "ML", *, role: str = Membership.Role.APPROVER) -> User:
    """A staff member of the post covering the country who may approve a check."""
    username = f"{country_code.lower()}-second-{role}"
    user = User.objects.filter(username=username).first()
    return user or staff_at(country_code, role, username=username)


def check_fields(**fields) -> safety_checks.CheckFields:
    values = {
        "region_codes": ["ML-7"],
        "question_en": "Fighting reported in Gao. Are you safe?",
        "question_fr": "Combats signalés à Gao. Êtes-vous en sécurité ?",
        "deadline": timezone.now() + datetime.timedelta(hours=6),
        **fields,
    }
    return safety_checks.CheckFields(**values)


def draft_check(officer, *, country_code: str = "ML", **fields) -> SafetyCheck:
    return safety_checks.safety_check_create(
        author=officer, country_code=country_code, fields=check_fields(**fields)
    )


def start_check(officer, callbacks=None, *, approver=None, **fields) -> SafetyCheck:
    """A check for ML-7 written by the officer, submitted and approved by a second person
    (an approver of the post unless given), which starts it; with `callbacks`
    (django_capture_on_commit_callbacks) the question is fanned out and sent too."""
    country_code = fields.pop("country_code", "ML")
    approver = approver or second_person(country_code)
    check = draft_check(officer, country_code=country_code, **fields)
    safety_checks.safety_check_submit(check=check, submitted_by=officer)
    if callbacks is None:
        return safety_checks.safety_check_approve(check=check, approver=approver)
    with callbacks(execute=True):
        return safety_checks.safety_check_approve(check=check, approver=approver)


def text_in(sender: str, body: str, callbacks, *, provider_id: str | None = None) -> None:
    """A text message arriving through the inbound webhook's service."""
    with callbacks(execute=True):
        inbound_record(
            provider="twilio",
            provider_id=provider_id or f"SM{timezone.now().timestamp()}{body}",
            sender=sender,
            body=body,
        )
