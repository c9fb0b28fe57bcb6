import datetime as dt

import pytest
import time_machine
from django.test import Client

from core.models import AuditEvent
from tests.accounts.factories import UserFactory, login_verified

pytestmark = pytest.mark.django_db

PASSWORD = "the-officers-real-password"
ATTACKER = "203.0.113.9"
OFFICE = "198.51.100.20"


def _sign_in(client: Client, password: str, address: str):
    return client.post(
        "/admin/login/",
        {"username": "officer", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def _fail(client: Client, times: int, address: str = ATTACKER) -> None:
    for attempt in range(times):
        _sign_in(client, f"guess-{attempt}", address)


def test_the_limit_locks_that_username_from_that_address(client, settings):
    UserFactory(username="officer", password=PASSWORD)

    _fail(client, settings.AXES_FAILURE_LIMIT)
    response = _sign_in(client, PASSWORD, ATTACKER)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="locked_out", username="officer").exists()
    assert (
        AuditEvent.objects.filter(action="login_failed", username="officer").count()
        >= settings.AXES_FAILURE_LIMIT
    )


def test_failures_below_the_limit_do_not_lock(client, settings):
    UserFactory(username="officer", password=PASSWORD)
    _fail(client, settings.AXES_FAILURE_LIMIT - 1)

    response = _sign_in(client, PASSWORD, ATTACKER)

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="locked_out").exists()


def test_an_attacker_elsewhere_cannot_lock_the_officer_out(client, settings):
    UserFactory(username="officer", password=PASSWORD)
    _fail(Client(), settings.AXES_FAILURE_LIMIT + 3, address=ATTACKER)

    response = _sign_in(client, PASSWORD, OFFICE)

    assert response.status_code == 302
    # The password was accepted: on to the second factor.
    assert response["Location"] == "/admin/otp/?next=%2Fadmin%2F"
    assert AuditEvent.objects.filter(action="login", username="officer").count() == 1


def test_the_lock_lifts_after_the_cool_off(client, settings):
    UserFactory(username="officer", password=PASSWORD)
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        _fail(client, settings.AXES_FAILURE_LIMIT)
        assert _sign_in(client, PASSWORD, ATTACKER).status_code == 429

    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)):
        response = _sign_in(client, PASSWORD, ATTACKER)

    assert response.status_code == 302


def test_a_verified_session_is_untouched_by_the_lockout(client, settings):
    user = UserFactory(username="officer", password=PASSWORD)
    _fail(client, settings.AXES_FAILURE_LIMIT, address="127.0.0.1")  # the test client's

    login_verified(client, user)

    assert client.get("/admin/").status_code == 200
