"""The reference a person's offer message carries: their own, stored on their offer, and what
staff find them by at the assembly point."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core import mail

from core import sms
from departures import manifests
from departures.models import Offer
from departures.services import allocation, offers
from notifications.models import Alert
from notifications.rendering import message_reference
from tests.departures.conftest import add_option, citizen, submit
from tests.departures.test_checkin import api_client, checkin_url
from tests.departures.test_staff_views import signed_in
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db

REFERENCE = r"[0-9A-HJKMNP-TV-Z]{8}"


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """Run enqueued tasks inline, so a test follows the offer to the sinks."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def sms_reference(text: str, word: str) -> str:
    found = re.search(rf"{word} ({REFERENCE})\.", text)
    assert found, text
    return found[1]


def offered(operation, officer, django_capture_on_commit_callbacks):
    add_option(operation, officer)
    aminata = citizen(household=1, language="fr", given_name="Aminata", family_name="Keita")
    john = citizen(language="en", given_name="John")
    PresenceFactory(citizen=aminata, country_id="ML", region_id="ML-7")
    submit(operation, aminata)
    submit(operation, john)
    with django_capture_on_commit_callbacks(execute=True):
        allocation.allocation_run(operation=operation, run_by=officer)
    return aminata, john


def test_each_persons_offer_email_and_sms_carry_their_own_reference_stored_on_their_offer(
    operation, officer, django_capture_on_commit_callbacks, sms_outbox
):
    aminata, john = offered(operation, officer, django_capture_on_commit_callbacks)

    alert = Alert.objects.get()
    stored = {o.intent.citizen_id: o.reference for o in Offer.objects.select_related("intent")}
    emails = {email.to[0]: email.body for email in mail.outbox}
    texts = {message.to: message.text for message in sms_outbox}
    french, english = stored[aminata.id], stored[john.id]
    assert re.fullmatch(REFERENCE, french)
    assert re.fullmatch(REFERENCE, english)
    assert french != english
    assert french == message_reference(alert_id=alert.id, citizen_id=aminata.id)
    assert sms_reference(texts[aminata.phone], "Réf.") == french
    assert sms_reference(texts[john.phone], "Ref.") == english
    # With its reference and reply code, within the three segments a level change may take.
    assert max(sms.segments(texts[aminata.phone]), sms.segments(texts[john.phone])) <= 3
    assert f"Votre référence : {french}." in emails[aminata.email]
    assert re.search(r"https?://\S+/manage/\S+/#boarding-pass\.", emails[aminata.email])
    assert f"Your reference: {english}." in emails[john.email]
    assert "your boarding pass (this reference and its QR code)" in emails[john.email]


def test_an_offer_made_by_hand_carries_its_reference_too(
    operation, officer, django_capture_on_commit_callbacks, sms_outbox
):
    option = add_option(operation, officer)
    person = citizen(language="en")
    intent = submit(operation, person)

    with django_capture_on_commit_callbacks(execute=True):
        offer = offers.offer_make(intent=intent, option=option, made_by=officer)

    [message] = sms_outbox
    assert sms_reference(message.text, "Ref.") == offer.reference
    assert Offer.objects.get().reference == offer.reference


def test_staff_check_in_by_the_reference_read_from_the_message_on_the_page_and_the_api(
    operation, officer, django_capture_on_commit_callbacks, sms_outbox
):
    aminata, _john = offered(operation, officer, django_capture_on_commit_callbacks)
    offer = Offer.objects.get(intent__citizen_id=aminata.id)
    offers.offer_accept(offer_id=offer.id, citizen_id=aminata.id)
    reference = sms_reference(next(m.text for m in sms_outbox if m.to == aminata.phone), "Réf.")
    phone = signed_in(officer)
    client = api_client(officer)

    found = phone.post(checkin_url(offer.option), {"action": "search", "q": reference})
    rows = client.get(f"/api/v1/departures/options/{offer.option_id}/manifest/").json()
    [mine] = [row for row in rows if row["reference"] == reference and row["relation"] == ""]
    boarded = client.post(
        f"/api/v1/departures/options/{offer.option_id}/checkin/",
        {"traveller": mine["traveller"], "state": "boarded"},
        format="json",
    )

    assert found.status_code == 200
    assert "Aminata Keita" in found.content.decode()
    assert "Member 0" in found.content.decode()
    assert boarded.status_code == 200
    assert boarded.json()["state"] == "boarded"


def test_a_reference_typed_with_look_alike_letters_is_found(operation, officer):
    option = add_option(operation, officer)
    person = citizen(given_name="Awa")
    offers.offer_make(intent=submit(operation, person), option=option, made_by=officer)
    offer = Offer.objects.get()
    Offer.objects.filter(id=offer.id).update(reference="01ABCDEF", state="accepted")

    found = manifests.checkin_search(option=option, query="oI-abcdef")
    other = manifests.checkin_search(option=option, query="01ABCDEG")

    assert [entry.row.reference for entry in found] == ["01ABCDEF"]
    assert other == []


def test_offers_made_before_references_keep_the_one_their_page_showed(operation, officer):
    migration = importlib.import_module("departures.migrations.0003_offer_reference")
    option = add_option(operation, officer)
    offers.offer_make(intent=submit(operation, citizen()), option=option, made_by=officer)
    offer = Offer.objects.get()
    Offer.objects.filter(id=offer.id).update(reference="")

    migration._references_of_earlier_offers(django_apps, None)

    assert Offer.objects.get().reference == str(offer.id)[:8].upper()
