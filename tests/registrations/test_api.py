import datetime
import json
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import Membership
from registrations import tasks
from registrations.models import Citizen, HouseholdMember, Presence
from tests.accounts.factories import staff_at
from tests.notifications.factories import DeliveryFactory
from tests.registrations.factories import HouseholdMemberFactory, PresenceFactory, trip_leg

pytestmark = pytest.mark.usefixtures("geography")

URL = "/api/v1/registrations/"
TODAY = timezone.localdate()


def body(**overrides):
    data = {
        "given_name": "Claire",
        "family_name": "Martin",
        "email": "claire.martin@example.org",
        "phone": "+961 3 000 101",
        "language": "fr",
        "notify_by_email": True,
        "notify_by_sms": True,
        "household": [{"name": "Léo Martin", "relation": "child"}],
        "presence": {
            "kind": "trip",
            "country": "LB",
            "region": "LB-BA",
            "start_date": TODAY.isoformat(),
            "end_date": (TODAY + datetime.timedelta(days=10)).isoformat(),
        },
        "consent": True,
    }
    data.update(overrides)
    return data


def post(api_client, data, **extra):
    return api_client.post(URL, data, format="json", **extra)


def test_register_answers_201_and_stores_everything(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_client, body())

    assert response.status_code == 201, response.data
    citizen = Citizen.objects.get()
    assert citizen.phone == "+9613000101"
    assert citizen.household_members.count() == 1
    assert citizen.presences.get().trip is not None
    assert len(mail.outbox) == 1


def test_a_registration_costs_one_geography_query_at_most_and_enqueues_its_email_after_commit(
    api_client, django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    """Issue 18: the hot path of a surge. The region's row vouches for its country; the
    verification email is stored due with the row and its sender kicked once, after the
    commit (the phone's code enqueued then too)."""
    enqueued = []
    monkeypatch.setattr("core.queue.enqueue", lambda name, *args, **kwargs: enqueued.append(name))

    # The region's country, then the citizen, household and presence in one transaction.
    with django_assert_num_queries(6), django_capture_on_commit_callbacks() as after_commit:
        response = post(api_client, body())
    before_commit = list(enqueued)
    for callback in after_commit:
        callback()

    assert response.status_code == 201, response.data
    assert before_commit == []
    assert sorted(name.rsplit(".", 1)[1] for name in enqueued) == [
        "send_due_verification_emails",
        "send_phone_code",
    ]
    assert Citizen.objects.get().email_verification_due_at is not None
    # The process keeps the place it found: the next registration there asks nothing of it.
    with django_assert_num_queries(5):
        assert post(api_client, body(email="awa.diallo@example.org")).status_code == 201


def test_register_existing_email_answers_the_same_and_creates_no_duplicate(
    api_client, django_capture_on_commit_callbacks
):
    first = post(api_client, body())
    with django_capture_on_commit_callbacks(execute=True):
        second = post(api_client, body(email="CLAIRE.martin@example.org", given_name="X"))

    assert second.status_code == first.status_code == 201
    assert second.data == first.data
    assert Citizen.objects.count() == 1
    assert "/manage/" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"given_name": "x" * 500}, "given_name"),
        ({"consent": False}, "consent"),
        ({"household": [{"name": "Kid", "relation": "child"}] * 11}, "household"),
        ({"presence": {**body()["presence"], "country": "ZZ"}}, "presence.country"),
        ({"presence": {**body()["presence"], "region": "ML-7"}}, "presence.region"),
        ({"presence": {**body()["presence"], "region": "LB-99"}}, "presence.region"),
        (
            {"presence": {**body()["presence"], "end_date": "2000-01-01"}},
            "presence.end_date",
        ),
        ({"presence": {**body()["presence"], "start_date": "soon"}}, "presence.start_date"),
    ],
)
def test_register_bad_input_answers_400_naming_the_field(api_client, overrides, field):
    response = post(api_client, body(**overrides), HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 400, response.data
    assert field in response.data["errors"], response.data
    assert Citizen.objects.count() == 0


def test_register_errors_are_in_the_requested_language(api_client):
    response = post(api_client, body(phone="12345"), HTTP_ACCEPT_LANGUAGE="fr")

    assert "format international" in response.data["errors"]["phone"][0]


def test_register_is_throttled_per_ip(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "registration": "2/hour",
        },
    }

    codes = [post(api_client, body(email=f"p{n}@example.org")).status_code for n in range(3)]
    other_ip = post(api_client, body(email="p9@example.org"), REMOTE_ADDR="10.9.9.9")

    assert codes == [201, 201, 429]
    assert other_ip.status_code == 201


@pytest.mark.parametrize("path", [URL, "/api/v1/me/code/"])
def test_a_new_forwarded_for_on_each_request_does_not_escape_the_limit(api_client, settings, path):
    settings.TRUSTED_PROXY_COUNT = 0
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"].split("/")[0])

    codes = [
        # An empty body is refused (400) after the throttle has counted the request.
        api_client.post(
            path, {}, format="json", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(limit + 1)
    ]

    assert 429 not in codes[:limit]
    assert codes[limit] == 429


def test_behind_a_proxy_the_address_it_appended_is_counted(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"].split("/")[0])

    def code(forwarded):
        return api_client.post(
            "/api/v1/me/code/", {}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    spoofed = [code(f"10.1.1.{n}, 198.51.100.7") for n in range(limit + 1)]
    another_client = code("198.51.100.8")

    assert spoofed[limit] == 429
    assert another_client == 400


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(
        ["given_name", "email", "phone", "language", "household", "presence", "consent"]
    ),
    value=json_values,
    presence_field=st.sampled_from(["kind", "country", "region", "start_date", "end_date"]),
    presence_value=json_values,
)
def test_no_input_gives_a_server_error(api_client, field, value, presence_field, presence_value):
    cache.clear()
    data = body(**{field: value})
    if isinstance(data.get("presence"), dict):
        data["presence"] = {**data["presence"], presence_field: presence_value}

    response = post(api_client, data)

    assert response.status_code in {201, 400}, response.content


# --- Staff ----------------------------------------------------------------------------------


@pytest.fixture
def register_of_two_countries():
    mali = PresenceFactory(country_id="ML", region_id="ML-7").citizen
    HouseholdMemberFactory(citizen=mali)
    lebanon = PresenceFactory(country_id="LB", region_id="LB-BA").citizen
    return mali, lebanon


def test_staff_of_beirut_see_no_mali_citizen_and_get_404_on_their_ids(
    api_client, register_of_two_countries
):
    mali, lebanon = register_of_two_countries
    api_client.force_authenticate(staff_at("LB", Membership.Role.OFFICER))

    listed = api_client.get(URL)
    foreign = api_client.get(f"{URL}{mali.id}/")
    own = api_client.get(f"{URL}{lebanon.id}/")

    assert [row["id"] for row in listed.data["results"]] == [str(lebanon.id)]
    assert foreign.status_code == 404
    assert own.status_code == 200
    assert own.data["presences"][0]["region"] == "LB-BA"


def test_staff_list_filters_by_region_date_and_verified_channel(
    api_client, django_assert_num_queries
):
    in_region = PresenceFactory(region_id="ML-7").citizen
    PresenceFactory(region_id="ML-1")
    unverified = PresenceFactory(region_id="ML-7", citizen__email_verified_at=None).citizen
    future = trip_leg(
        region_id="ML-7",
        start_date=TODAY + datetime.timedelta(days=30),
        end_date=TODAY + datetime.timedelta(days=40),
    ).citizen
    api_client.force_authenticate(staff_at("ML", Membership.Role.OFFICER))

    def ids(query):
        response = api_client.get(URL + query)
        assert response.status_code == 200, response.data
        return {row["id"] for row in response.data["results"]}

    with django_assert_num_queries(4):
        assert ids(f"?region=ML-7&present_on={TODAY}") == {str(in_region.id), str(unverified.id)}
    assert ids("?region=ML-7&channel_verified=email") == {str(in_region.id), str(future.id)}
    assert api_client.get(URL + "?present_on=tomorrow").status_code == 400


def test_anonymous_cannot_list_the_register(api_client, register_of_two_countries):
    assert api_client.get(URL).status_code in {401, 403}


def test_stats_count_citizens_and_people_present_today_per_region(
    api_client, register_of_two_countries
):
    api_client.force_authenticate(staff_at("ML", Membership.Role.OFFICER))

    response = api_client.get(URL + "stats/?country=ML")
    foreign = api_client.get(URL + "stats/?country=LB")

    assert response.status_code == 200
    assert response.data["regions"] == [
        {"region": "ML-7", "name": "Gao", "citizens": 1, "people": 2}
    ]
    assert foreign.status_code == 404


# --- Self-service ---------------------------------------------------------------------------


def me_token(api_client, capture, email):
    with capture(execute=True):
        assert api_client.post("/api/v1/me/code/", {"email": email}).status_code == 202
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = api_client.post("/api/v1/me/token/", {"email": email, "code": code})
    assert response.status_code == 200, response.data
    return response.data["token"]


def test_me_code_answers_the_same_for_unknown_emails(
    api_client, django_capture_on_commit_callbacks
):
    PresenceFactory(citizen__email="known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        known = api_client.post("/api/v1/me/code/", {"email": "known@example.org"})
    with django_capture_on_commit_callbacks(execute=True):
        unknown = api_client.post("/api/v1/me/code/", {"email": "unknown@example.org"})

    assert (known.status_code, known.data) == (unknown.status_code, unknown.data)
    assert [message.to for message in mail.outbox] == [["known@example.org"]]


def test_me_reads_updates_adds_a_trip_checks_out_exports_and_deletes(
    api_client, django_capture_on_commit_callbacks
):
    residence = PresenceFactory(citizen__email="me@example.org", region_id="ML-7")
    citizen = residence.citizen
    HouseholdMemberFactory(citizen=citizen)
    token = me_token(api_client, django_capture_on_commit_callbacks, "me@example.org")
    api_client.credentials(HTTP_AUTHORIZATION=f"Citizen {token}")

    read = api_client.get("/api/v1/me/")
    assert read.status_code == 200
    assert read.data["email"] == "me@example.org"

    updated = api_client.put(
        "/api/v1/me/",
        {
            "given_name": "Awa",
            "family_name": "Keita",
            "email": "me@example.org",
            "phone": citizen.phone,
            "language": "en",
            "notify_by_email": True,
            "notify_by_sms": True,
        },
    )
    assert updated.status_code == 200, updated.data
    assert updated.data["family_name"] == "Keita"
    assert updated.data["phone_verified"] is True

    trip = api_client.post(
        "/api/v1/me/presences/",
        {
            "legs": [
                {
                    "country": "LB",
                    "region": "LB-BA",
                    "start_date": str(TODAY),
                    "end_date": str(TODAY + datetime.timedelta(days=3)),
                },
                {
                    "country": "ML",
                    "start_date": str(TODAY + datetime.timedelta(days=4)),
                    "end_date": str(TODAY + datetime.timedelta(days=6)),
                },
            ]
        },
    )
    assert trip.status_code == 201, trip.data
    assert len(api_client.get("/api/v1/me/presences/").data) == 3

    left = api_client.post(f"/api/v1/me/presences/{residence.id}/leave/")
    assert left.status_code == 200
    assert left.data["end_date"] == str(TODAY)

    delivery = DeliveryFactory(citizen=citizen)
    export = api_client.get("/api/v1/me/export/")
    assert export.data["citizen"]["family_name"] == "Keita"
    assert len(export.data["presences"]) == 3
    assert len(export.data["household"]) == 1
    assert [row["alert_id"] for row in export.data["deliveries"]] == [str(delivery.alert_id)]

    assert api_client.delete("/api/v1/me/").status_code == 204
    assert Citizen.objects.count() == 0
    # The ledger keeps the message for the alert's counts, without the person.
    delivery.refresh_from_db()
    assert delivery.citizen_id is None
    assert HouseholdMember.objects.count() == 0
    assert Presence.objects.count() == 0
    assert api_client.get("/api/v1/me/").status_code == 401


def test_me_refuses_other_citizens_presences_and_bad_tokens(
    api_client, django_capture_on_commit_callbacks
):
    mine = PresenceFactory(citizen__email="mine@example.org")
    other = PresenceFactory()
    token = me_token(api_client, django_capture_on_commit_callbacks, "mine@example.org")

    api_client.credentials(HTTP_AUTHORIZATION=f"Citizen {token}")
    assert api_client.post(f"/api/v1/me/presences/{other.id}/leave/").status_code == 404
    assert api_client.post(f"/api/v1/me/presences/{mine.id}/leave/").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Citizen {token}x")
    assert api_client.get("/api/v1/me/").status_code == 401
    api_client.credentials()
    assert api_client.get("/api/v1/me/").status_code == 401


def test_me_verifies_the_phone_with_the_texted_code(
    api_client, sms_outbox, django_capture_on_commit_callbacks
):
    PresenceFactory(citizen__email="phone@example.org", citizen__phone_verified_at=None)
    token = me_token(api_client, django_capture_on_commit_callbacks, "phone@example.org")
    api_client.credentials(HTTP_AUTHORIZATION=f"Citizen {token}")

    with django_capture_on_commit_callbacks(execute=True):
        sent = api_client.post("/api/v1/me/phone/code/")
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1].text).group(1)
    wrong = api_client.post("/api/v1/me/phone/verify/", {"code": "abcdef"})
    right = api_client.post("/api/v1/me/phone/verify/", {"code": code})

    assert sent.status_code == 202
    assert wrong.status_code == 400
    assert "code" in wrong.data["errors"]
    assert right.status_code == 200
    assert right.data["phone_verified"] is True


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(["/api/v1/me/code/", "/api/v1/me/token/"]),
    payload=st.dictionaries(st.sampled_from(["email", "code", "x"]), json_values, max_size=3),
)
def test_no_self_service_input_gives_a_server_error(api_client, path, payload):
    cache.clear()

    response = api_client.post(path, payload, format="json")

    assert response.status_code in {202, 400}, response.content


# --- No enumeration by timing ----------------------------------------------------------------


def _shape(sql: str) -> str:
    """The statement without its values (and savepoint names, which count up)."""
    return re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", sql)


def _ask(client, path, email, capture):
    with CaptureQueriesContext(connection) as queries, capture() as callbacks:
        response = client.post(path, {"email": email})
    return response, [_shape(query["sql"]) for query in queries], callbacks


@pytest.mark.parametrize("path", ["/manage/", "/api/v1/me/code/"])
def test_a_known_and_an_unknown_address_cost_the_same_work(
    client, path, django_capture_on_commit_callbacks
):
    PresenceFactory(citizen__email="known@example.org")

    known, known_queries, known_tasks = _ask(
        client, path, "known@example.org", django_capture_on_commit_callbacks
    )
    unknown, unknown_queries, unknown_tasks = _ask(
        client, path, "unknown@example.org", django_capture_on_commit_callbacks
    )

    assert known.status_code == unknown.status_code
    assert known_queries == unknown_queries
    assert len(known_tasks) == len(unknown_tasks) == 1
    # The tasks decide: only the registered address gets a message.
    for callback in (*known_tasks, *unknown_tasks):
        callback()
    assert [message.to for message in mail.outbox] == [["known@example.org"]]


@pytest.mark.parametrize(
    ("path", "task"),
    [
        ("/manage/", "send_manage_link_to_address"),
        ("/api/v1/me/code/", "send_access_code_to_address"),
    ],
)
def test_the_task_message_does_not_hold_the_address(
    client, path, task, monkeypatch, django_capture_on_commit_callbacks
):
    PresenceFactory(citizen__email="known@example.org")
    sent = []
    monkeypatch.setattr(getattr(tasks, task), "delay", lambda *args: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, {"email": "Known@Example.org"})

    assert len(sent) == 1
    message = json.dumps(sent[0]).lower()
    assert "known" not in message
    assert "example.org" not in message


def test_a_wrong_code_costs_the_same_work_for_a_known_and_an_unknown_address(client):
    PresenceFactory(citizen__email="known@example.org")

    def ask(email):
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/me/token/", {"email": email, "code": "000000"})
        return response, [_shape(query["sql"]) for query in queries]

    known, known_queries = ask("known@example.org")
    unknown, unknown_queries = ask("unknown@example.org")

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known_queries == unknown_queries
