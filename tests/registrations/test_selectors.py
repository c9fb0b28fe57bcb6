import datetime

import pytest
from django.db import connection

from registrations import selectors, tokens
from tests.registrations.factories import (
    CitizenFactory,
    HouseholdMemberFactory,
    PresenceFactory,
    trip_leg,
)

pytestmark = pytest.mark.usefixtures("geography")

TODAY = datetime.date(2026, 11, 24)
DAY = datetime.timedelta(days=1)
ALERT_COLUMNS = (
    "id",
    "language",
    "notify_by_email",
    "notify_by_sms",
    "email_verified_at",
    "phone_verified_at",
    "matched_region_code",
)


def recipients(**kwargs):
    arguments = {"country_code": "ML", "region_codes": ["ML-7"], "on_date": TODAY} | kwargs
    return {
        row["id"]: row["matched_region_code"]
        for row in selectors.citizens_present_in_regions(**arguments).values(*ALERT_COLUMNS)
    }


def test_recipients_are_residents_trips_arrivals_and_people_somewhere_in_the_country(
    django_assert_num_queries,
):
    resident = PresenceFactory(region_id="ML-7").citizen
    PresenceFactory(region_id="ML-1")  # another region of the country
    nowhere_in_particular = PresenceFactory(region_id=None).citizen
    PresenceFactory(country_id="LB", region_id=None)  # somewhere in another country
    on_trip = trip_leg(region_id="ML-7", start_date=TODAY - 2 * DAY, end_date=TODAY).citizen
    trip_leg(region_id="ML-7", start_date=TODAY - 5 * DAY, end_date=TODAY - DAY)  # gone
    arriving = trip_leg(region_id="ML-7", start_date=TODAY + 3 * DAY, end_date=TODAY + 9 * DAY)
    trip_leg(region_id="ML-7", start_date=TODAY + 4 * DAY, end_date=TODAY + 9 * DAY)  # too late
    PresenceFactory(region_id="ML-7", end_date=TODAY - DAY)  # left the country
    both = PresenceFactory(region_id=None).citizen
    trip_leg(citizen=both, region_id="ML-7", start_date=TODAY + DAY, end_date=TODAY + 2 * DAY)
    twice = PresenceFactory(region_id="ML-7").citizen
    trip_leg(citizen=twice, region_id="ML-7", start_date=TODAY, end_date=TODAY + DAY)

    with django_assert_num_queries(1):
        found = recipients(lookahead_days=3)

    assert found == {
        resident.id: "ML-7",
        nowhere_in_particular.id: None,
        on_trip.id: "ML-7",
        arriving.citizen.id: "ML-7",
        both.id: "ML-7",
        twice.id: "ML-7",
    }


def test_recipients_without_lookahead_exclude_future_trips():
    trip_leg(region_id="ML-7", start_date=TODAY + DAY, end_date=TODAY + 2 * DAY)
    assert recipients() == {}


def test_no_region_codes_still_reach_people_somewhere_in_the_country():
    anywhere = PresenceFactory(region_id=None).citizen
    PresenceFactory(region_id="ML-7")

    assert recipients(region_codes=[]) == {anywhere.id: None}


def test_matched_region_prefers_a_presence_covering_the_date():
    citizen = CitizenFactory()
    trip_leg(citizen=citizen, region_id="ML-1", start_date=TODAY + DAY, end_date=TODAY + 5 * DAY)
    trip_leg(citizen=citizen, region_id="ML-7", start_date=TODAY - DAY, end_date=TODAY)

    assert recipients(region_codes=["ML-1", "ML-7"], lookahead_days=3) == {citizen.id: "ML-7"}


def test_citizen_contacts_give_only_verified_channels_and_a_manage_link(
    django_assert_num_queries, settings
):
    settings.SITE_URL = "https://consular.example.org"
    verified = CitizenFactory()
    unverified = CitizenFactory(email_verified_at=None, phone_verified_at=None)

    with django_assert_num_queries(1):
        contacts = selectors.citizen_contacts(citizen_ids=[verified.id, unverified.id])

    assert contacts[verified.id].email == verified.email
    assert contacts[verified.id].phone == verified.phone
    assert contacts[unverified.id].email == ""
    assert contacts[unverified.id].phone == ""
    url = contacts[verified.id].manage_url
    assert url.startswith("https://consular.example.org/manage/")
    assert tokens.manage_token_citizen_id(url.rstrip("/").rsplit("/", 1)[1]) == str(verified.id)


def test_citizen_contacts_for_one_channel_read_only_its_address(monkeypatch):
    citizen = CitizenFactory()
    signed = []
    monkeypatch.setattr(tokens, "manage_url", lambda citizen_id: signed.append(citizen_id) or "")

    [by_sms] = selectors.citizen_contacts(citizen_ids=[citizen.id], channels=["sms"]).values()

    assert (by_sms.email, by_sms.phone) == ("", citizen.phone)
    # The manage link is signed only when a message asks for it.
    assert signed == []
    assert by_sms.manage_url == by_sms.manage_url
    assert signed == [citizen.id]


def test_citizen_ids_by_phone_match_verified_numbers_only():
    verified = CitizenFactory(phone="+22370009999")
    CitizenFactory(phone="+22370009999", phone_verified_at=None)

    assert selectors.citizen_ids_by_phone(phone="+22370009999") == [verified.id]


def test_presence_stats_count_citizens_and_their_households_per_region(
    django_assert_num_queries,
):
    family = PresenceFactory(region_id="ML-7").citizen
    HouseholdMemberFactory(citizen=family)
    HouseholdMemberFactory(citizen=family)
    trip_leg(citizen=family, region_id="ML-7", start_date=TODAY, end_date=TODAY)
    PresenceFactory(region_id="ML-7")
    PresenceFactory(region_id=None)
    PresenceFactory(region_id="ML-1", end_date=TODAY - DAY)

    with django_assert_num_queries(1):
        stats = selectors.presence_stats(country_code="ML", on_date=TODAY)

    assert [(row.region_code, row.citizens, row.people) for row in stats] == [
        ("ML-7", 2, 4),
        (None, 1, 1),
    ]


PRESENCES = 1_000_000


@pytest.mark.postgres
def test_recipients_plan_uses_the_presence_indexes_on_a_million_presences():
    """Fills PostgreSQL with 1M presences (70% open-ended residences, 30% two-week trips) spread
    over the regions of Mali, Lebanon and France, then checks that the planner reaches the
    alerted presences through the partial indexes, not by reading the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO registrations_citizen (
                id, created_at, updated_at, given_name, family_name, id_document_type,
                id_document_number, language, email, email_hash, phone, phone_hash,
                notify_by_email, notify_by_sms, emergency_contact_name,
                emergency_contact_relation, emergency_contact_phone, emergency_contact_email,
                consent_version, consented_at, confirmed_at, phone_code_hash,
                phone_code_attempts, access_code_hash, access_code_attempts
            )
            -- The planner reads no address: only the unique hash needs a distinct value.
            SELECT gen_random_uuid(), now(), now(), 'Given', 'Family', '', '', 'fr',
                   '', md5('bulk' || n), '', '', true, false, '', '', '', '', '2026-11',
                   now(), now(), '', 0, '', 0
            FROM generate_series(1, %s) AS n
            """,
            [PRESENCES // 4],
        )
        cursor.execute(
            """
            WITH regions AS (
                SELECT array_agg(code ORDER BY code) AS codes,
                       array_agg(country_id ORDER BY code) AS countries
                FROM regions_region
            ), citizens AS (
                SELECT array_agg(id) AS ids FROM registrations_citizen
            )
            INSERT INTO registrations_presence (
                id, created_at, updated_at, citizen_id, kind, trip, country_id, region_id,
                city, start_date, end_date
            )
            SELECT gen_random_uuid(), now(), now(),
                   citizens.ids[1 + n %% array_length(citizens.ids, 1)],
                   CASE WHEN n %% 10 < 7 THEN 'residence' ELSE 'trip' END,
                   CASE WHEN n %% 10 < 7 THEN NULL ELSE gen_random_uuid() END,
                   regions.countries[1 + n %% array_length(regions.codes, 1)],
                   CASE WHEN n %% 50 = 0 THEN NULL
                        ELSE regions.codes[1 + n %% array_length(regions.codes, 1)] END,
                   '', DATE '2020-01-01' + (n %% 2500),
                   CASE WHEN n %% 10 < 7 THEN NULL ELSE DATE '2020-01-01' + (n %% 2500) + 14 END
            FROM generate_series(1, %s) AS n, regions, citizens
            """,
            [PRESENCES],
        )
        cursor.execute("ANALYZE registrations_presence")
        cursor.execute("ANALYZE registrations_citizen")

    queryset = selectors.citizens_present_in_regions(
        country_code="ML", region_codes=["ML-7", "ML-1"], on_date=TODAY, lookahead_days=2
    ).values(*ALERT_COLUMNS)
    # QuerySet.explain() writes EXPLAIN inside the subquery that filters on a window.
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "presence_region_start_idx" in plan, plan
    assert "presence_country_noregion_idx" in plan, plan
    assert "Seq Scan on registrations_presence" not in plan, plan
    assert len(list(queryset)) > 0


def test_household_selectors_keep_to_the_citizens_own_members(django_assert_num_queries):
    awa, moussa = CitizenFactory(), CitizenFactory()
    first, second = HouseholdMemberFactory(citizen=awa), HouseholdMemberFactory(citizen=awa)
    other = HouseholdMemberFactory(citizen=moussa)

    with django_assert_num_queries(1):
        mine = selectors.household_member_ids_of_citizen(
            citizen_id=awa.id, among=[first.id, other.id]
        )
    assert mine == [first.id]
    assert set(selectors.household_member_ids_of_citizen(citizen_id=awa.id)) == {
        first.id,
        second.id,
    }
    with django_assert_num_queries(1):
        pairs = selectors.household_member_ids_of_citizens(citizen_ids=[awa.id, moussa.id])
    assert set(pairs) == {(first.id, awa.id), (second.id, awa.id), (other.id, moussa.id)}


def test_citizens_present_with_household_count_their_members_in_one_query(
    django_assert_num_queries,
):
    awa = PresenceFactory(region_id="ML-7").citizen
    HouseholdMemberFactory.create_batch(2, citizen=awa)
    alone = PresenceFactory(region_id="ML-7").citizen

    with django_assert_num_queries(1):
        rows = list(
            selectors.citizens_present_with_household(
                country_code="ML", region_codes=["ML-7"], on_date=TODAY
            )
        )
    assert {(row["id"], row["matched_region_code"], row["household"]) for row in rows} == {
        (awa.id, "ML-7", 2),
        (alone.id, "ML-7", 0),
    }


def test_current_presence_is_the_one_covering_today_else_the_first(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC))
    past = PresenceFactory(region_id="ML-1", end_date=TODAY - DAY)
    citizen = past.citizen
    current = PresenceFactory(citizen=citizen, region_id="ML-7", start_date=TODAY - DAY)

    assert selectors.presence_current_of_citizen(citizen=citizen) == current
    current.delete()
    assert selectors.presence_current_of_citizen(citizen=citizen) == past
    past.delete()
    assert selectors.presence_current_of_citizen(citizen=citizen) is None


def test_citizens_named_are_the_named_ones_with_no_region_matched():
    named, other = CitizenFactory(), CitizenFactory()

    rows = list(selectors.citizens_named(citizen_ids=[str(named.id)]).values(*ALERT_COLUMNS))

    assert [row["id"] for row in rows] == [named.id]
    assert rows[0]["matched_region_code"] is None
    assert other.id not in {row["id"] for row in rows}
