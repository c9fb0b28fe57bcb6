"""LEAVE, ACCEPT and DECLINE by text message, through the real inbound webhook, from the HTTP
request to the intent or the offer and the answer in the SMS outbox."""

import datetime
import itertools

import pytest
import time_machine
from django.utils import timezone

from core import events
from core.models import OutboxEvent
from departures.models import DepartureOption, Intent, Offer
from departures.services import allocation, options
from notifications.models import Delivery, InboundMessage
from tests.departures.conftest import add_option, citizen, submit
from tests.notifications.test_webhooks import INBOUND_PATH, SECRET, http_post
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count()


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """Run enqueued tasks inline, so a test follows the answer to the SMS outbox."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET


@pytest.fixture
def text(api_client, django_capture_on_commit_callbacks, sms_outbox):
    """Text the body from the person's number as the SMS provider would; the answers sent."""

    def send(person, body, *, provider_id=None):
        sms_outbox.clear()
        payload = {"id": provider_id or f"in-{next(_ids)}", "from": person.phone, "body": body}
        with django_capture_on_commit_callbacks(execute=True):
            response = http_post(api_client, INBOUND_PATH.format(provider="http"), payload)
        assert response.status_code == 204
        return [(sms.to, sms.text) for sms in sms_outbox]

    return send


def present(**fields):
    person = citizen(**fields)
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    return person


@pytest.fixture
def offered(operation, officer, django_capture_on_commit_callbacks, sms_outbox):
    """An English speaker and a French speaker, each offered seats on the flight."""
    option = add_option(operation, officer, capacity=10)
    john, aminata = present(language="en"), present(language="fr")
    submit(operation, john)
    submit(operation, aminata)
    with django_capture_on_commit_callbacks(execute=True):
        allocation.allocation_run(
            operation=operation, run_by=officer, answer_within=datetime.timedelta(hours=2)
        )
    return option, john, aminata


def state_of(person) -> str:
    return Offer.objects.get(intent__citizen=person).state


# --- LEAVE -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["LEAVE", "leave!", " Leave "])
def test_leave_states_the_intent_and_asks_for_the_missing_details_in_english(operation, text, body):
    john = present(language="en")

    [(to, answer)] = text(john, body)

    intent = Intent.objects.get(citizen=john)
    assert (intent.operation_id, intent.people, intent.region_id) == (operation.id, 1, "ML-7")
    assert intent.earliest_date == timezone.localdate()
    assert to == john.phone
    assert answer.startswith("Your request to leave is recorded for 1 person(s).")
    assert "travel documents" in answer
    assert "/manage/" in answer
    assert answer.endswith("#departure-title")


@pytest.mark.parametrize("body", ["PARTIR", "partir.", "Partir"])
def test_partir_states_the_intent_and_answers_in_french(operation, text, body):
    aminata = present(language="fr")

    [(_to, answer)] = text(aminata, body)

    assert Intent.objects.filter(citizen=aminata).count() == 1
    assert answer.startswith("Votre demande de départ est enregistrée pour 1 personne(s).")
    assert "#departure-title" in answer


def test_a_second_leave_updates_the_intent_and_keeps_who_travels(operation, text):
    awa = present(language="en", household=1)
    submit(operation, awa, earliest_date=timezone.localdate() + datetime.timedelta(days=3))

    [(_to, answer)] = text(awa, "LEAVE")
    text(awa, "leave")

    intent = Intent.objects.get(citizen=awa)
    assert intent.people == 2
    assert intent.travellers.filter(document_type="passport").count() == 1
    # Nothing lacks but the household member's document: still asked for.
    assert "travel documents" in answer
    assert intent.earliest_date == timezone.localdate() + datetime.timedelta(days=3)


def test_leave_with_every_detail_given_is_simply_confirmed(operation, text):
    from departures.services import intents

    awa = present(language="en")
    intents.intent_submit(
        citizen_id=awa.id,
        operation=operation,
        fields=intents.IntentFields(
            travellers=[intents.TravellerFields(nationality="ML", document_type="passport")],
            earliest_date=timezone.localdate(),
        ),
    )

    [(_to, answer)] = text(awa, "LEAVE")

    assert answer.startswith("Your request to leave is recorded for 1 person(s). We will text")
    assert Intent.objects.filter(citizen=awa).count() == 1


def test_leave_where_no_departure_is_organised_says_so_and_records_nothing(geography, text):
    awa = present(language="en")

    [(_to, answer)] = text(awa, "LEAVE")

    assert answer == "No assisted departure is organised where you are."
    assert not Intent.objects.exists()


def test_leave_once_the_departure_is_closing_is_refused_clearly(operation, officer, text):
    from departures.services import operations

    awa = present(language="en")
    operations.operation_close(operation=operation, closed_by=officer)

    [(_to, answer)] = text(awa, "LEAVE")

    assert answer == "This departure takes no new requests."
    assert not Intent.objects.exists()


def test_a_sentence_that_says_leave_is_not_a_request(operation, text):
    awa = present(language="en")

    assert text(awa, "we cannot leave the house") == []
    assert not Intent.objects.exists()


# --- the offer's reply code ------------------------------------------------------------------


def test_the_offer_text_gives_the_reply_code_in_each_language(offered, sms_outbox):
    option, john, aminata = offered
    code = option.reply_code

    texts = {sms.to: sms.text for sms in sms_outbox}
    assert f"Or text back ACCEPT {code} or DECLINE {code}." in texts[john.phone]
    assert f"ACCEPTER {code}" in texts[aminata.phone]
    assert f"REFUSER {code}" in texts[aminata.phone]


# --- ACCEPT, DECLINE -------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["ACCEPT {code}", "accept {lower}", "Accept", "ACCEPT."])
def test_accept_by_text_takes_the_seats_and_confirms_in_english(offered, text, body):
    option, john, aminata = offered
    code = option.reply_code

    [(to, answer)] = text(john, body.format(code=code, lower=code.lower()))

    assert state_of(john) == "accepted"
    assert state_of(aminata) == "offered"
    assert to == john.phone
    assert answer.startswith("Your seats are confirmed: Flight on ")
    assert "Assembly point: Embassy car park." in answer


@pytest.mark.parametrize("body", ["ACCEPTER {code}", "accepté", "Accepter !"])
def test_accepter_takes_the_seats_and_confirms_in_french(offered, text, body):
    option, _john, aminata = offered

    [(_to, answer)] = text(aminata, body.format(code=option.reply_code))

    assert state_of(aminata) == "accepted"
    assert answer.startswith("Vos places sont confirmées : Vol le ")


@pytest.mark.parametrize(
    ("person", "body", "starts"),
    [
        ("john", "DECLINE {code}", "You declined the seats on the Flight on "),
        ("john", "decline", "You declined the seats on the Flight on "),
        ("aminata", "REFUSER {code}", "Vous avez refusé les places proposées (Vol le "),
        ("aminata", "Refusé", "Vous avez refusé les places proposées (Vol le "),
    ],
)
def test_decline_by_text_gives_the_seats_back(offered, text, person, body, starts):
    option, john, aminata = offered
    who = john if person == "john" else aminata

    [(_to, answer)] = text(who, body.format(code=option.reply_code))

    assert state_of(who) == "declined"
    option.refresh_from_db()
    assert option.seats_taken == 1
    assert answer.startswith(starts)


def test_an_accept_after_the_deadline_is_refused_and_changes_nothing(offered, text):
    option, john, _aminata = offered

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        [(_to, answer)] = text(john, f"ACCEPT {option.reply_code}")

    assert state_of(john) == "offered"
    assert "has passed, so nothing was changed" in answer


def test_an_accept_after_the_offer_expired_says_the_time_has_passed(offered, text):
    from departures.services import offers

    _option, john, _aminata = offered
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        offers.offers_expire()

        [(_to, answer)] = text(john, "ACCEPT")

    assert state_of(john) == "expired"
    assert "has passed, so nothing was changed" in answer


def test_an_accept_from_someone_never_offered_a_seat_is_refused(offered, text):
    option, _john, _aminata = offered
    moussa = present(language="en")

    [(to, answer)] = text(moussa, f"ACCEPT {option.reply_code}")

    assert to == moussa.phone
    assert answer.startswith("No seat was offered to you, so nothing was changed.")
    assert not Offer.objects.filter(intent__citizen=moussa).exists()
    assert set(Offer.objects.values_list("state", flat=True)) == {"offered"}


def test_an_unknown_code_is_refused_and_the_right_one_given(offered, text):
    option, john, _aminata = offered

    [(_to, answer)] = text(john, "ACCEPT ZZ9999")

    assert state_of(john) == "offered"
    assert "code ZZ9999, so nothing was changed" in answer
    assert option.reply_code in answer


def test_an_accept_on_a_cancelled_option_says_so(offered, officer, text):
    option, john, _aminata = offered
    options.option_cancel(option=option, cancelled_by=officer, reason="Airport closed")

    [(_to, answer)] = text(john, f"ACCEPT {option.reply_code}")

    assert state_of(john) == "withdrawn"
    assert "was cancelled (Airport closed), so nothing was changed" in answer


def test_an_accept_of_seats_withdrawn_for_a_smaller_aircraft_says_so(offered, officer, text):
    option, john, aminata = offered
    options.option_change_capacity(option=option, changed_by=officer, capacity=1)
    withdrawn = Offer.objects.get(state="withdrawn").intent.citizen
    sender = john if withdrawn.id == john.id else aminata

    [(_to, answer)] = text(sender, "ACCEPT")

    assert state_of(sender) == "withdrawn"
    assert DepartureOption.objects.get().seats_taken == 1
    assert "fewer seats" in answer or "moins de places" in answer


def test_several_offers_to_one_number_need_the_code(operation, officer, text):
    first = add_option(operation, officer, capacity=1)
    second = add_option(operation, officer, place="Gao")
    awa = present(language="en")
    moussa = citizen(language="en", phone=awa.phone)
    submit(operation, awa)
    submit(operation, moussa)
    allocation.allocation_run(operation=operation, run_by=officer)
    assert Offer.objects.get(intent__citizen=moussa).option_id == second.id

    [(_to, answer)] = text(awa, "ACCEPT")

    assert answer.startswith("You have several seat offers.")
    assert first.reply_code in answer
    assert second.reply_code in answer
    assert set(Offer.objects.values_list("state", flat=True)) == {"offered"}


def test_a_shared_number_accepts_for_the_one_the_offer_names(operation, officer, text):
    option = add_option(operation, officer)
    awa = present(language="en")
    moussa = citizen(language="fr", phone=awa.phone)
    submit(operation, moussa)
    allocation.allocation_run(operation=operation, run_by=officer)

    [(to, answer)] = text(awa, f"accept {option.reply_code}")

    assert state_of(moussa) == "accepted"
    assert to == awa.phone
    # Answered to Moussa, the one the offer names, in his language.
    assert answer.startswith("Vos places sont confirmées")
    assert set(Delivery.objects.values_list("citizen_id", flat=True)) == {moussa.id}


# --- once per message ------------------------------------------------------------------------


def test_the_same_text_delivered_twice_acts_and_answers_once(offered, text, sms_outbox):
    option, john, _aminata = offered

    first = text(john, f"DECLINE {option.reply_code}", provider_id="in-dup")
    again = text(john, f"DECLINE {option.reply_code}", provider_id="in-dup")

    assert len(first) == 1
    assert again == []
    assert InboundMessage.objects.count() == 1
    option.refresh_from_db()
    assert option.seats_taken == 1


def test_a_reply_relayed_twice_acts_once(
    operation, text, sms_outbox, django_capture_on_commit_callbacks
):
    john = present(language="en")
    text(john, "LEAVE")
    sms_outbox.clear()
    OutboxEvent.objects.filter(name="notifications.inbound_sms_received").update(
        dispatched_at=None, next_attempt_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=True):
        relayed = events.events_relay()

    assert relayed.dispatched == 1
    assert sms_outbox == []
    assert Intent.objects.filter(citizen=john).count() == 1
