import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership
from consular.celery import app as celery_app
from notifications import tasks
from notifications.models import Alert
from registrations.models import Citizen, Presence
from tests.accounts.factories import staff_at
from tests.advisories.conftest import publish


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


@pytest.fixture
def mali_at_level_3(ml_staff, django_capture_on_commit_callbacks):
    editor, approver = ml_staff
    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=editor, approver=approver, level=3)
    return editor, approver


def publish_gao_at_4(staff, callbacks):
    editor, approver = staff
    with callbacks(execute=True):
        publish(
            country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
        )
    return Alert.objects.order_by("-created_at").first()


@pytest.fixture
def published_tasks(monkeypatch):
    """Send tasks are recorded as (queue, ids) instead of being run."""
    published: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        tasks.send_deliveries,
        "apply_async",
        lambda args, queue: published.append((queue, list(args[0]))),
    )
    return published
