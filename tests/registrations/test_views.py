import datetime
import json
import re

import phonenumbers
import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.models import AuditEvent
from notifications.models import Suppression
from registrations import demo, tokens
from registrations.models import Citizen, HouseholdMember, Presence
from tests.accounts.factories import login_verified, staff_at
from tests.notifications.factories import DeliveryFactory
from tests.registrations.factories import HouseholdMemberFactory, PresenceFactory, trip_leg

pytestmark = pytest.mark.usefixtures("geography")

TODAY = timezone.localdate()


def form_data(**overrides):
    data = {
        "presence-kind": "residence",
        "presence-country": "ML",
        "presence-region": "ML-7",
        "presence-city": "Gao",
        "presence-start_date": TODAY.isoformat(),
        "presence-end_date": "",
        "person-given_name": "Awa",
        "person-family_name": "Traoré",
        "person-email": "awa@example.org",
        "person-phone": "+223 70 00 01 01",
        "person-language": "fr",
        "person-notify_by_email": "on",
        "person-consent": "on",
        "household-TOTAL_FORMS": "1",
        "household-INITIAL_FORMS": "0",
        "household-MIN_NUM_FORMS": "0",
        "household-MAX_NUM_FORMS": "10",
        "household-0-name": "Moussa Traoré",
        "household-0-relation": "enfant",
    }
    data.update(overrides)
    return data


def manage_path(citizen, suffix=""):
    return f"/manage/{tokens.manage_token(citizen.id)}/{suffix}"


def test_register_form_creates_the_registration_and_sends_the_email(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", form_data())

    assert response.status_code == 302
    assert response["Location"] == "/register/thanks/"
    citizen = Citizen.objects.get()
    assert citizen.household_members.get().relation == "enfant"
    assert citizen.presences.get().region_id == "ML-7"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Confirmez votre adresse électronique"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"person-phone": "12"}, "person-phone", "format international"),
        ({"person-email": "nope"}, "person-email", "valide"),
        ({"presence-country": "XX"}, "presence-country", "Choisissez un pays"),
        ({"presence-region": "LB-BA"}, "presence-region", "Choisissez une région"),
        (
            {"presence-end_date": (TODAY - datetime.timedelta(days=3)).isoformat()},
            "presence-end_date",
            "date de fin",
        ),
        ({"person-consent": ""}, "person-consent", "Veuillez accepter"),
        ({"person-given_name": "x" * 300}, "person-given_name", "300"),
        ({"household-0-phone": "+1"}, "household-0-phone", "format international"),
    ],
)
def test_register_form_shows_the_error_on_the_field_in_french(client, overrides, field, message):
    client.cookies["django_language"] = "fr"

    response = client.post("/register/", form_data(**overrides), HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert error, html
    assert message in error.group(1)
    assert 'aria-invalid="true"' in html
    assert Citizen.objects.count() == 0


def test_too_many_household_members_are_refused_on_the_form(client):
    data = form_data(**{"household-TOTAL_FORMS": "11"})
    for index in range(11):
        data[f"household-{index}-name"] = f"Kid {index}"
        data[f"household-{index}-relation"] = "child"

    response = client.post("/register/", data)

    assert response.status_code == 200
    assert "form-error" in response.content.decode()
    assert Citizen.objects.count() == 0


def test_show_regions_lists_the_regions_of_the_chosen_country_without_saving(client):
    response = client.post(
        "/register/",
        form_data(**{"presence-country": "LB", "show_regions": "1", "person-phone": "12"}),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="LB-BA"' in html
    assert 'value="Awa"' in html
    assert 'value="Moussa Traoré"' in html
    assert "errorlist" not in html
    assert "form-error" not in html
    assert Citizen.objects.count() == 0


def test_add_another_destination_keeps_the_first_leg_and_adds_a_blank_one(client):
    citizen = PresenceFactory().citizen

    response = client.post(
        manage_path(citizen, "trips/new/"),
        {
            "legs-TOTAL_FORMS": "1",
            "legs-INITIAL_FORMS": "0",
            "legs-0-country": "LB",
            "legs-0-start_date": TODAY.isoformat(),
            "add_leg": "1",
        },
    )

    html = response.content.decode()
    assert 'name="legs-1-country"' in html
    assert 'name="legs-2-country"' not in html
    assert 'value="LB-BA"' in html  # the first leg's regions are listed
    assert "errorlist" not in html


def test_email_link_verifies_and_a_bad_one_explains(client):
    citizen = PresenceFactory(citizen__email_verified_at=None).citizen

    ok = client.get(f"/verify-email/{tokens.verify_email_token(citizen.id, citizen.email)}/")
    bad = client.get("/verify-email/garbage/")

    assert ok.status_code == 200
    citizen.refresh_from_db()
    assert citizen.email_verified_at is not None
    assert bad.status_code == 400


def test_manage_link_request_answers_the_same_for_unknown_addresses(
    client, django_capture_on_commit_callbacks
):
    PresenceFactory(citizen__email="known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/manage/", {"email": "known@example.org"})
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post("/manage/", {"email": "unknown@example.org"})

    assert known.status_code == unknown.status_code == 200

    def page(response):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert page(known) == page(unknown)
    assert [message.to for message in mail.outbox] == [["known@example.org"]]


def test_manage_page_shows_the_registration_and_refuses_bad_tokens(
    client, django_assert_max_num_queries
):
    presence = PresenceFactory(region_id="ML-7", city="Gao")
    HouseholdMemberFactory(citizen=presence.citizen, name="Moussa")

    # The citizen, the household, the presences, and one each for the panels of cases (an
    # open safety check) and departures (an operation where the citizen is).
    with django_assert_max_num_queries(5):
        response = client.get(manage_path(presence.citizen))

    html = response.content.decode()
    assert response.status_code == 200
    assert presence.citizen.email in html
    assert "Moussa" in html
    assert "Gao" in html
    assert client.get("/manage/not-a-token/").status_code == 404


def test_edit_changes_details_and_household(client, django_capture_on_commit_callbacks):
    citizen = PresenceFactory().citizen
    HouseholdMemberFactory(citizen=citizen, name="Old")
    data = {
        "person-given_name": "Awa",
        "person-family_name": "Keita",
        "person-email": "new@example.org",
        "person-phone": citizen.phone,
        "person-language": "en",
        "person-notify_by_email": "on",
        "household-TOTAL_FORMS": "2",
        "household-INITIAL_FORMS": "1",
        "household-MIN_NUM_FORMS": "0",
        "household-MAX_NUM_FORMS": "10",
        "household-0-name": "",
        "household-0-relation": "",
        "household-1-name": "New",
        "household-1-relation": "spouse",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(manage_path(citizen, "edit/"), data)

    assert response.status_code == 302, response.content.decode()
    citizen.refresh_from_db()
    assert citizen.family_name == "Keita"
    assert citizen.email_verified_at is None
    assert list(citizen.household_members.values_list("name", flat=True)) == ["New"]
    assert mail.outbox[-1].to == ["new@example.org"]


def test_add_a_trip_of_two_legs_and_check_out(client):
    citizen = PresenceFactory().citizen
    data = {
        "legs-TOTAL_FORMS": "2",
        "legs-INITIAL_FORMS": "0",
        "legs-MIN_NUM_FORMS": "1",
        "legs-MAX_NUM_FORMS": "10",
        "legs-0-country": "LB",
        "legs-0-region": "LB-BA",
        "legs-0-start_date": TODAY.isoformat(),
        "legs-0-end_date": (TODAY + datetime.timedelta(days=3)).isoformat(),
        "legs-1-country": "ML",
        "legs-1-region": "",
        "legs-1-start_date": (TODAY + datetime.timedelta(days=4)).isoformat(),
        "legs-1-end_date": (TODAY + datetime.timedelta(days=8)).isoformat(),
    }

    response = client.post(manage_path(citizen, "trips/new/"), data)

    assert response.status_code == 302
    legs = list(citizen.presences.filter(kind="trip").order_by("start_date"))
    assert [leg.region_id for leg in legs] == ["LB-BA", None]
    assert legs[0].trip == legs[1].trip

    left = client.post(manage_path(citizen, f"presences/{legs[0].id}/leave/"))
    assert left.status_code == 302
    legs[0].refresh_from_db()
    assert legs[0].end_date == TODAY


def test_trip_form_names_the_wrong_leg(client):
    citizen = PresenceFactory().citizen
    data = {
        "legs-TOTAL_FORMS": "1",
        "legs-INITIAL_FORMS": "0",
        "legs-MIN_NUM_FORMS": "1",
        "legs-MAX_NUM_FORMS": "10",
        "legs-0-country": "ML",
        "legs-0-start_date": TODAY.isoformat(),
        "legs-0-end_date": "",
    }

    response = client.post(manage_path(citizen, "trips/new/"), data)

    assert response.status_code == 200
    assert 'id="id_legs-0-end_date_error"' in response.content.decode()
    assert citizen.presences.filter(kind="trip").count() == 0


def test_phone_verification_by_code(client, sms_outbox, django_capture_on_commit_callbacks):
    citizen = PresenceFactory(citizen__phone_verified_at=None).citizen
    with django_capture_on_commit_callbacks(execute=True):
        client.post(manage_path(citizen, "phone/"), {"send": "1"})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1].text).group(1)

    wrong = client.post(manage_path(citizen, "phone/"), {"code": "12345x"})
    right = client.post(manage_path(citizen, "phone/"), {"code": code})

    assert wrong.status_code == 200
    assert right.status_code == 302
    citizen.refresh_from_db()
    assert citizen.phone_verified_at is not None


def test_export_downloads_every_record_as_json(client):
    citizen = PresenceFactory().citizen
    HouseholdMemberFactory(citizen=citizen)
    trip_leg(citizen=citizen, start_date=TODAY, end_date=TODAY)
    DeliveryFactory(citizen=citizen)
    Suppression.objects.create(citizen=citizen, channel="sms", reason="opt_out")

    response = client.get(manage_path(citizen, "export.json"))

    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert data["citizen"]["id"] == str(citizen.id)
    assert len(data["household"]) == 1
    assert len(data["presences"]) == 2
    # The other apps' rows about them come in the same download.
    assert [row["channel"] for row in data["deliveries"]] == ["sms"]
    assert [row["reason"] for row in data["suppressions"]] == ["opt_out"]
    assert data["inbound_messages"] == data["safety_responses"] == data["cases"] == []


def test_delete_removes_every_row_and_voids_the_link(client):
    citizen = PresenceFactory().citizen
    HouseholdMemberFactory(citizen=citizen)
    path = manage_path(citizen)

    assert client.get(manage_path(citizen, "delete/")).status_code == 200
    response = client.post(manage_path(citizen, "delete/"))

    assert response.status_code == 200
    assert (
        Citizen.objects.count() == HouseholdMember.objects.count() == Presence.objects.count() == 0
    )
    assert client.get(path).status_code == 404


def test_unverified_email_link_can_be_sent_again(client, django_capture_on_commit_callbacks):
    citizen = PresenceFactory(citizen__email_verified_at=None).citizen

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(manage_path(citizen, "resend-email/"))

    assert response.status_code == 302
    assert "/verify-email/" in mail.outbox[-1].body


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.dictionaries(
        st.sampled_from(sorted(form_data())),
        st.text(max_size=40) | st.sampled_from(["", "on", "ML", "LB-BA", "2026-02-30", "-1"]),
        max_size=6,
    )
)
def test_no_form_input_gives_a_server_error(client, changes):
    response = client.post("/register/", form_data(**changes))

    assert response.status_code in {200, 302}


def test_confirm_restarts_the_yearly_clock(client):
    citizen = PresenceFactory(citizen__confirmation_requested_at=timezone.now()).citizen

    response = client.post(manage_path(citizen, "confirm/"))

    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.confirmation_requested_at is None


# --- Admin ----------------------------------------------------------------------------------


def test_admin_list_is_scoped_to_the_posts_countries_and_exports_are_audited(client):
    mali = PresenceFactory(country_id="ML", region_id="ML-7", citizen__family_name="=HYPERLINK(1)")
    lebanon = PresenceFactory(country_id="LB", region_id="LB-BA").citizen
    user = staff_at("ML", "officer")
    user.is_staff = True
    user.is_superuser = False
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_citizen"))
    login_verified(client, user)

    listing = client.get("/admin/registrations/citizen/")
    foreign = client.get(f"/admin/registrations/citizen/{lebanon.id}/change/")
    export = client.post(
        "/admin/registrations/citizen/",
        {"action": "export_csv", "_selected_action": [str(mali.citizen.id)]},
    )

    assert listing.status_code == 200
    assert mali.citizen.email in listing.content.decode()
    assert lebanon.email not in listing.content.decode()
    assert foreign.status_code == 302  # the admin redirects an unknown id with a message
    own = client.get(f"/admin/registrations/citizen/{mali.citizen.id}/change/")
    assert own.status_code == 200
    assert 'name="email"' not in own.content.decode()  # contacts are the citizen's to change
    assert client.get("/admin/registrations/citizen/add/").status_code == 403
    body = export.content.decode()
    assert export["Content-Type"].startswith("text/csv")
    assert mali.citizen.email in body
    assert "'=HYPERLINK(1)" in body
    assert AuditEvent.objects.filter(action="view", object_id=str(mali.citizen.id)).exists()
    event = AuditEvent.objects.get(action="export")
    assert event.detail["rows"] == 1
    assert event.detail["countries"] == ["ML"]


def test_advisory_editors_do_not_see_the_register_of_their_own_post(client, api_client):
    mali = PresenceFactory(country_id="ML", region_id="ML-7").citizen
    editor = staff_at("ML", "editor")
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(*Permission.objects.filter(codename__endswith="_citizen"))
    login_verified(client, editor)
    api_client.force_authenticate(editor)

    listing = client.get("/admin/registrations/citizen/")
    detail = client.get(f"/admin/registrations/citizen/{mali.id}/change/")

    assert listing.status_code == 200
    assert mali.email not in listing.content.decode()
    assert detail.status_code == 302
    assert api_client.get("/api/v1/registrations/").status_code == 403
    assert api_client.get(f"/api/v1/registrations/{mali.id}/").status_code == 403


def test_admin_search_finds_part_of_a_name_or_a_whole_address_or_number(client):
    awa = PresenceFactory(
        country_id="ML",
        citizen__family_name="Keita",
        citizen__email="awa.keita@example.org",
        citizen__phone="+22370001234",
    ).citizen
    PresenceFactory(country_id="ML", citizen__family_name="Diallo")
    hidden = PresenceFactory(country_id="LB", region_id="LB-BA", citizen__email="x@example.org")
    user = staff_at("ML", "officer")
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_citizen"))
    login_verified(client, user)

    def found(term):
        response = client.get("/admin/registrations/citizen/", {"q": term})
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert found("eit") == [awa]
    assert found("AWA.Keita@example.org") == [awa]
    assert found("+223 70 00 12 34") == [awa]
    assert found("awa.keita") == []  # part of an address: the hash matches whole ones only
    assert found(hidden.citizen.email) == []  # outside the post's countries


# --- Demo -----------------------------------------------------------------------------------


def test_demo_seeder_is_idempotent_with_valid_fictitious_contacts():
    demo.seed_citizens()
    counts = (Citizen.objects.count(), HouseholdMember.objects.count(), Presence.objects.count())
    demo.seed_citizens()

    assert counts == (
        Citizen.objects.count(),
        HouseholdMember.objects.count(),
        Presence.objects.count(),
    )
    assert counts[0] == demo.CITIZENS
    assert set(Presence.objects.values_list("country_id", flat=True)) == {"ML", "LB"}
    for email, phone in Citizen.objects.values_list("email", "phone"):
        assert email.endswith("@example.org")
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
