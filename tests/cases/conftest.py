import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership
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


def start_check(officer, callbacks=None, **fields) -> SafetyCheck:
    """Start a check for ML-7; with `callbacks` (django_capture_on_commit_callbacks) the
    question is fanned out and sent too."""
    values = {
        "started_by": officer,
        "country_code": "ML",
        "region_codes": ["ML-7"],
        "question_en": "Fighting reported in Gao. Are you safe?",
        "question_fr": "Combats signalés à Gao. Êtes-vous en sécurité ?",
        "deadline": timezone.now() + datetime.timedelta(hours=6),
        **fields,
    }
    if callbacks is None:
        return safety_checks.safety_check_start(**values)
    with callbacks(execute=True):
        return safety_checks.safety_check_start(**values)


def text_in(sender: str, body: str, callbacks, *, provider_id: str | None = None) -> None:
    """A text message arriving through the inbound webhook's service."""
    with callbacks(execute=True):
        inbound_record(
            provider="twilio",
            provider_id=provider_id or f"SM{timezone.now().timestamp()}{body}",
            sender=sender,
            body=body,
        )
