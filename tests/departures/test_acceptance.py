"""The issue's acceptance scenario on PostgreSQL: 300 intents (480 people) for two flights of
150 seats. No overbooking, families together, priority kept, offers out through the ledger in
each person's language, manifests downloadable, boarding ends their presence."""

import csv
import io
from collections import Counter, defaultdict

import pytest
from django.core import mail
from django.db.models import Sum
from django.utils import timezone

from departures import selectors
from departures.models import Intent, Offer, Traveller
from departures.services import allocation, boarding, offers
from notifications.models import Delivery
from registrations.models import Presence
from tests.departures.conftest import add_option, citizen, submit
from tests.departures.test_staff_views import signed_in
from tests.registrations.factories import PresenceFactory

pytestmark = pytest.mark.django_db

SEATS = 150


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """The offers' fan-out and sending run inline, through the ledger to the sinks."""
    from consular.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def party(n: int):
    """The n-th party: 180 alone, 60 pairs and 60 of three; every tenth with medical needs,
    some pregnant, some minors travelling alone; French and English alternately."""
    person = citizen(
        household=[0, 0, 0, 1, 2][n % 5],
        language="fr" if n % 2 else "en",
        given_name=f"Person{n}",
    )
    PresenceFactory(citizen=person, country_id="ML", region_id="ML-7")
    return person, {
        "needs_assistance": n % 10 == 0,
        "assistance_details": "Wheelchair." if n % 10 == 0 else "",
        "pregnant": n % 15 == 1,
        "minors_alone": n % 25 == 7,
    }


def group(intent: Intent) -> int:
    """The priority group from the intent's own flags, written again here (nobody is in a
    region at level 4 and staff set no override)."""
    if intent.needs_assistance:
        return 1
    if intent.with_children:
        return 2
    if intent.elderly_or_pregnant:
        return 3
    return 5


def open_presence_in_mali(citizen_id) -> bool:
    today = timezone.localdate()
    return any(
        presence.end_date is None or presence.end_date > today
        for presence in Presence.objects.filter(citizen_id=citizen_id, country_id="ML")
    )


def test_300_intents_for_two_flights_of_150_seats(
    operation, officer, django_capture_on_commit_callbacks, sms_outbox
):
    people = {}
    for n in range(300):
        person, flags = party(n)
        submit(operation, person, **flags)
        people[person.id] = person
    first = add_option(operation, officer, capacity=SEATS, place="Bamako-Sénou")
    second = add_option(operation, officer, capacity=SEATS, place="Bamako-Sénou")
    intents = list(Intent.objects.filter(operation=operation))
    assert (len(intents), sum(intent.people for intent in intents)) == (300, 480)

    with django_capture_on_commit_callbacks(execute=True):
        result = allocation.allocation_run(operation=operation, run_by=officer)

    made = list(Offer.objects.filter(intent__operation=operation).select_related("intent"))
    # No overbooking: each flight's seats held are its counter, within its capacity.
    for option in (first, second):
        option.refresh_from_db()
        held = sum(offer.seats for offer in made if offer.option_id == option.id)
        assert held == option.seats_taken <= SEATS
    assert result.people == sum(offer.seats for offer in made) == 2 * SEATS  # singles fill up
    # Families together: one offer per party, for all of its people, on one flight.
    assert max(Counter(offer.intent_id for offer in made).values()) == 1
    assert all(offer.seats == offer.intent.people for offer in made)
    # Priority kept: a first-fit pass over the queue ordered from the flags gives these offers.
    ordered = sorted(intents, key=lambda intent: (group(intent), intent.submitted_at, intent.id))
    replayed = allocation.first_fit(
        parties=[
            allocation.Party(
                intent_id=intent.id, people=intent.people, earliest_date=intent.earliest_date
            )
            for intent in ordered
        ],
        options=[
            allocation.Seats(
                option_id=option.id, free=SEATS, departs_on=timezone.localdate(option.departs_at)
            )
            for option in (first, second)
        ],
        offered_before=set(),
    )
    assert {party.intent_id: option_id for _rank, party, option_id in replayed} == {
        offer.intent_id: offer.option_id for offer in made
    }
    assert {intent.id for intent in intents if group(intent) < 5} <= {o.intent_id for o in made}
    # Through the ledger, in each person's language, by email and SMS.
    offered = {offer.intent.citizen_id for offer in made}
    emails = defaultdict(list)
    for email in mail.outbox:
        emails[email.to[0]].append(email.subject)
    for citizen_id in offered:
        person = people[citizen_id]
        [subject] = emails[person.email]
        prefix = "Une place pour vous" if person.language == "fr" else "A seat for you"
        assert subject.startswith(prefix)
    assert len(emails) == len(offered)
    sms = {message.to: message.text for message in sms_outbox}
    assert all(
        sms[people[c].phone].startswith(
            "Places proposées" if people[c].language == "fr" else "Seats offered"
        )
        for c in offered
    )
    ledger = Delivery.objects.filter(citizen_id__in=offered)
    assert ledger.count() == 2 * len(offered)
    assert set(ledger.values_list("status", flat=True)) == {"sent"}
    assert Counter(ledger.values_list("language", flat=True)) == Counter(
        people[c].language for c in offered for _channel in ("email", "sms")
    )

    # Everyone accepts; the manifests hold every person of every accepted party.
    for offer in made:
        offers.offer_accept(offer_id=offer.id, citizen_id=offer.intent.citizen_id)
    staff = signed_in(officer)
    for option in (first, second):
        response = staff.get(f"/staff/departures/options/{option.id}/manifest.csv")
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        accepted = Offer.objects.filter(option=option, state="accepted").aggregate(n=Sum("seats"))
        assert len(rows) == accepted["n"] == option.seats_taken
        assert {row["state"] for row in rows} == {"accepted"}
        assert (
            len({row["reference"] for row in rows}) == Offer.objects.filter(option=option).count()
        )

    # The first flight boards: its citizens' presence in Mali ends, the second's stays.
    for offer in (offer for offer in made if offer.option_id == first.id):
        for traveller in Traveller.objects.filter(intent_id=offer.intent_id):
            boarding.boarding_mark(
                option=first, traveller_id=traveller.id, state="boarded", marked_by=officer
            )
    on_first = {offer.intent.citizen_id for offer in made if offer.option_id == first.id}
    on_second = offered - on_first
    assert not any(open_presence_in_mali(citizen_id) for citizen_id in on_first)
    assert all(open_presence_in_mali(citizen_id) for citizen_id in on_second)
    board = selectors.operation_board(operation=operation)
    assert board.boarded_people == first.seats_taken
    assert (board.accepted_people, board.waiting_people) == (
        first.seats_taken + second.seats_taken,
        480 - first.seats_taken - second.seats_taken,
    )
    by_group = {figure.key: figure for figure in board.priorities}
    assert by_group["1"].waiting == 0
    assert by_group["1"].accepted == by_group["1"].people
