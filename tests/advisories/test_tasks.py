from datetime import UTC, datetime, timedelta

import time_machine
from django.conf import settings

from advisories.models import Advisory
from advisories.tasks import publish_due_advisories
from tests.advisories.conftest import publish


def test_beat_runs_the_publishing_task_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["publish-due-advisories"]

    assert entry["task"] == publish_due_advisories.name
    assert entry["schedule"] == 60.0


def test_task_publishes_what_is_due_and_is_harmless_when_repeated(ml_editor, ml_approver):
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        approved = publish(
            country_code="ML",
            editor=ml_editor,
            approver=ml_approver,
            level=4,
            scheduled_for=start + timedelta(minutes=30),
        )

    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert publish_due_advisories.apply().get() == {"published": 1}
        assert publish_due_advisories.apply().get() == {"published": 0}

    approved.refresh_from_db()
    assert approved.status == Advisory.Status.PUBLISHED
