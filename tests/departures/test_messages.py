import pytest
from django.core import mail

from departures.services import allocation, options
from tests.departures.conftest import add_option, citizen, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """Run enqueued tasks inline, so a test follows the offer to the sinks."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def test_offers_go_out_through_the_ledger_in_each_persons_language(
    operation, officer, django_capture_on_commit_callbacks, sms_outbox
):
    add_option(operation, officer, place="Bamako-Sénou", assembly_point="Porte 4")
    aminata = citizen(household=1, language="fr", given_name="Aminata")
    john = citizen(language="en", given_name="John")
    submit(operation, aminata)
    submit(operation, john)

    with django_capture_on_commit_callbacks(execute=True):
        allocation.allocation_run(operation=operation, run_by=officer)

    emails = {email.to[0]: email for email in mail.outbox}
    assert set(emails) == {aminata.email, john.email}
    french, english = emails[aminata.email], emails[john.email]
    assert french.subject.startswith("Une place pour vous : Vol le ")
    assert "Bonjour Aminata" in french.body
    assert "Point de rassemblement : Porte 4." in french.body
    assert "Un sac de 15 kg" in french.body  # what to bring, in French
    assert "/manage/" in french.body
    assert english.subject.startswith("A seat for you: Flight on ")
    assert "Accept or decline before" in english.body
    texts = {sms.to: sms.text for sms in sms_outbox}
    assert texts[aminata.phone].startswith("Places proposées : Vol le ")
    assert texts[john.phone].startswith("Seats offered: Flight on ")


def test_a_cancelled_options_passengers_are_told_why(
    operation, officer, django_capture_on_commit_callbacks, sms_outbox
):
    option = add_option(operation, officer)
    person = citizen(language="en")
    submit(operation, person)
    allocation.allocation_run(operation=operation, run_by=officer)

    with django_capture_on_commit_callbacks(execute=True):
        options.option_cancel(option=option, cancelled_by=officer, reason="Airport closed")

    [email] = mail.outbox
    assert email.to == [person.email]
    assert "The option was cancelled: Airport closed" in email.body
    assert "You keep your place in the queue" in email.body
