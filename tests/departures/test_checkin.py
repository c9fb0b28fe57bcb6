"""The assembly point through its adapters: the check-in page on a phone, the manifest and
the check-in in the staff API, and the citizen's page (boarding pass, "I have arrived")."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Membership
from core.audit import AuditEvent
from departures.manifests import COLUMNS
from departures.models import Boarding, Offer
from registrations import tokens
from tests.accounts.factories import PostFactory, staff_at
from tests.departures.test_boarding import accepted_party, open_presences
from tests.departures.test_staff_views import signed_in

pytestmark = pytest.mark.django_db
API = "/api/v1/departures/"


def checkin_url(option) -> str:
    return f"/staff/departures/options/{option.id}/checkin/"


def test_an_officer_finds_a_person_by_reference_and_boards_her_after_confirming(operation, officer):
    person, option, offer, (me, _daughter) = accepted_party(
        operation, officer, given_name="Aminata", family_name="Keita"
    )
    phone = signed_in(officer)
    url = checkin_url(option)

    empty = phone.get(url)
    found = phone.post(url, {"action": "search", "q": offer.reference.lower()})
    present = phone.post(
        url, {"action": "mark", "traveller": str(me.id), "state": "present", "q": ""}
    )
    asked = phone.post(url, {"action": "mark", "traveller": str(me.id), "state": "boarded"})
    asked_rows = Boarding.objects.get().state
    confirmed = phone.post(
        url, {"action": "mark", "traveller": str(me.id), "state": "boarded", "confirm": "yes"}
    )
    after = phone.get(url)

    assert empty.status_code == 200
    assert "no-store" in empty["Cache-Control"]
    assert "Aminata Keita" in found.content.decode()
    assert "Member 0" in found.content.decode()
    assert present.status_code == 302
    assert asked.status_code == 200
    assert "Confirm boarding" in asked.content.decode()
    assert asked_rows == "present"  # nothing boarded before the confirmation
    assert confirmed.status_code == 302
    assert f"Aminata Keita ({offer.reference}) has boarded" in after.content.decode()
    assert Boarding.objects.get().state == "boarded"
    assert open_presences(person) == []
    assert AuditEvent.objects.filter(object_id=str(option.id), detail__list="checkin").exists()
    board = phone.get(f"/staff/departures/{operation.id}/").content.decode()
    assert '<th scope="row">People boarded</th><td>1</td>' in board
    assert '<th scope="row">Gao</th><td>1</td><td>2</td><td>0</td><td>2</td><td>1</td>' in board


def test_a_refusal_is_shown_on_the_page_with_nothing_changed(operation, officer):
    _person, option, _offer, (me, _daughter) = accepted_party(operation, officer)
    phone = signed_in(officer)
    url = checkin_url(option)
    phone.post(
        url, {"action": "mark", "traveller": str(me.id), "state": "boarded", "confirm": "yes"}
    )

    refused = phone.post(url, {"action": "mark", "traveller": str(me.id), "state": "no_show"})

    assert refused.status_code == 409
    assert "has boarded already" in refused.content.decode()
    assert Boarding.objects.get().state == "boarded"


def test_the_check_in_page_does_not_exist_for_another_post_or_advisory_roles(operation, officer):
    _person, option, _offer, (me, _daughter) = accepted_party(operation, officer)
    PostFactory(code="post-lb", name="Embassy in Beirut", countries=["LB"])
    beirut = signed_in(staff_at("LB", Membership.Role.OFFICER, username="beirut-officer"))
    editor = signed_in(staff_at("ML", Membership.Role.EDITOR, username="bamako-editor"))

    for client in (beirut, editor):
        assert client.get(checkin_url(option)).status_code == 404
        marked = client.post(
            checkin_url(option),
            {"action": "mark", "traveller": str(me.id), "state": "boarded", "confirm": "yes"},
        )
        assert marked.status_code == 404
    assert Boarding.objects.count() == 0


def api_client(user) -> APIClient:
    token, _created = Token.objects.get_or_create(user=user)
    return APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_the_api_gives_the_manifest_and_checks_people_in(operation, officer):
    _person, option, offer, (me, daughter) = accepted_party(operation, officer)
    client = api_client(officer)

    manifest = client.get(f"{API}options/{option.id}/manifest/")
    boarded = client.post(
        f"{API}options/{option.id}/checkin/",
        {"traveller": str(daughter.id), "state": "boarded"},
        format="json",
    )
    bad = client.post(
        f"{API}options/{option.id}/checkin/",
        {"traveller": str(me.id), "state": "gone"},
        format="json",
    )
    board = client.get(f"{API}operations/{operation.id}/board/").json()

    assert manifest.status_code == 200
    assert "no-store" in manifest["Cache-Control"]
    rows = manifest.json()
    assert [row["traveller"] for row in rows] == [str(me.id), str(daughter.id)]
    assert set(COLUMNS) <= set(rows[0])
    assert (rows[0]["reference"], rows[0]["state"], rows[0]["boarding"]) == (
        offer.reference,
        "accepted",
        "",
    )
    assert boarded.status_code == 200
    assert boarded.json()["state"] == "boarded"
    assert bad.status_code == 400
    assert "state" in bad.json()["errors"]
    assert board["boarded_people"] == 1
    assert board["options"][0]["boarded"] == 1
    assert AuditEvent.objects.filter(
        object_id=str(option.id), action="export", detail__list="manifest"
    ).exists()


def test_the_citizens_page_shows_the_boarding_pass_then_asks_whether_she_arrived(
    operation, officer
):
    person, option, offer, (me, _daughter) = accepted_party(operation, officer)
    token = tokens.manage_token(person.id)
    browser = Client()

    before = browser.get(f"/manage/{token}/").content.decode()
    from departures.services import boarding

    boarding.boarding_mark(option=option, traveller_id=me.id, state="boarded", marked_by=officer)
    after = browser.get(f"/manage/{token}/").content.decode()
    arrived = browser.post(f"/departure/{token}/offers/{offer.id}/arrived/")

    assert offer.reference in before
    assert "<svg" in before
    assert "I have arrived" in after
    assert "<svg" not in after.split("departure-title")[1]
    assert arrived.status_code == 302
    assert Offer.objects.get().arrived_at is not None
