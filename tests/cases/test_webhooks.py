"""Answers through the real inbound SMS webhook, from the HTTP request to the case."""

import pytest

from cases.models import Case, SafetyResponse
from tests.cases.conftest import citizen_in, start_check
from tests.notifications.test_webhooks import INBOUND_PATH, SECRET, http_post

pytestmark = pytest.mark.usefixtures("geography")


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET


def test_help_by_sms_through_the_webhook_opens_a_case_once_whatever_the_retries(
    api_client, bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    payload = {"id": "in-1", "from": awa.phone, "body": f"Help {check.code} 3 of us at the market"}

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = http_post(api_client, INBOUND_PATH.format(provider="http"), payload)
        assert response.status_code == 204

    answer = SafetyResponse.objects.get(citizen=awa)
    assert (answer.status, answer.via) == ("needs_help", "sms")
    assert "market" in answer.details
    assert Case.objects.get().citizen_id == awa.id


def test_a_departures_word_goes_to_departures_and_is_not_clarified(
    api_client, bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    from accounts.models import Membership
    from departures.models import Intent
    from tests.cases.conftest import second_person
    from tests.departures.conftest import open_operation

    awa = citizen_in("ML-7")
    start_check(bamako_officer, django_capture_on_commit_callbacks)
    open_operation(bamako_officer, second_person("ML", role=Membership.Role.OFFICER))
    sms_outbox.clear()
    path = INBOUND_PATH.format(provider="http")

    for n, body in enumerate(["Leave", "ACCEPT"]):
        with django_capture_on_commit_callbacks(execute=True):
            http_post(api_client, path, {"id": f"in-{n}", "from": awa.phone, "body": body})

    assert Intent.objects.filter(citizen=awa).count() == 1
    texts = [sms.text for sms in sms_outbox]
    assert texts[0].startswith("Your request to leave is recorded")
    assert texts[1].startswith("No seat was offered to you")
    assert not any("we did not understand" in text for text in texts)
    assert SafetyResponse.objects.get(citizen=awa).status == "pending"
