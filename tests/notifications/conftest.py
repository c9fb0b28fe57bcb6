import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership
from consular.celery import app as celery_app
from registrations.models import Citizen, Presence
from tests.accounts.factories import staff_at


@pytest.fixture
def eager_tasks(monkeypatch):
    """Run enqueued tasks inline, so a service test follows the whole flow in one process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def ml_staff(geography):
    return (
        staff_at("ML", Membership.Role.EDITOR, username="ml-editor"),
        staff_at("ML", Membership.Role.APPROVER, username="ml-approver"),
    )


def make_citizen(
    region_code: str | None,
    *,
    country_code: str | None = None,
    language: str = "en",
    sms: bool = True,
    email_verified: bool = True,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    name: str = "Awa",
) -> Citizen:
    """A registered citizen present in the region (or somewhere in the country)."""
    now = timezone.now()
    number = Citizen.objects.count() + 1
    citizen = Citizen.objects.create(
        given_name=name,
        family_name="Test",
        language=language,
        email=f"citizen{number}@example.org",
        phone=f"+2237000{number:04d}" if sms else "",
        notify_by_email=True,
        notify_by_sms=sms,
        email_verified_at=now if email_verified else None,
        phone_verified_at=now if sms else None,
        consent_version="1",
        consented_at=now,
        confirmed_at=now,
    )
    today = timezone.localdate()
    Presence.objects.create(
        citizen=citizen,
        kind=Presence.Kind.RESIDENCE if end is None else Presence.Kind.TRIP,
        trip=None if end is None else citizen.id,
        country_id=country_code or (region_code or "").split("-")[0],
        region_id=region_code,
        start_date=start or today - datetime.timedelta(days=30),
        end_date=end,
    )
    return citizen
