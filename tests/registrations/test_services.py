import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core import mail, signing
from django.db import IntegrityError, transaction

from core.exceptions import NotFound, ValidationFailed
from registrations import selectors, services, tokens
from registrations.models import Citizen, HouseholdMember, Presence
from tests.registrations.factories import CitizenFactory, PresenceFactory, trip_leg

pytestmark = pytest.mark.usefixtures("geography")

TODAY = datetime.date(2026, 11, 24)


def person(**overrides) -> services.PersonInput:
    values: dict[str, Any] = {
        "given_name": "Awa",
        "family_name": "Traoré",
        "email": "Awa.Traore@Example.org",
        "language": "fr",
        "phone": "+223 70 00 01 01",
        "notify_by_email": True,
        "notify_by_sms": True,
    } | overrides
    return services.PersonInput(**values)


def presence(**overrides) -> services.PresenceInput:
    values: dict[str, Any] = {"country": "ML", "region": "ML-7", "start_date": TODAY} | overrides
    return services.PresenceInput(**values)


def register(*, household=(), kind="residence", consent=True, **presence_overrides):
    return services.citizen_register(
        person=person(),
        household=list(household),
        presence=presence(**presence_overrides),
        kind=kind,
        consent=consent,
    )


def register_with(person_input, **kwargs):
    return services.citizen_register(
        person=person_input,
        household=kwargs.get("household", []),
        presence=kwargs.get("presence", presence()),
        kind=kwargs.get("kind", "residence"),
        consent=kwargs.get("consent", True),
    )


def test_register_stores_person_household_and_presence_and_sends_verifications(
    django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        result = register(
            household=[services.HouseholdMemberInput(name="Moussa", relation="child")]
        )

    citizen = result.citizen
    assert result.created
    assert citizen.email == "awa.traore@example.org"
    assert citizen.phone == "+22370000101"
    assert citizen.email_verified_at is None
    assert citizen.phone_verified_at is None
    assert citizen.consent_version == services.CONSENT_VERSION
    assert list(citizen.household_members.values_list("name", flat=True)) == ["Moussa"]
    assert list(citizen.presences.values_list("kind", "region_id")) == [("residence", "ML-7")]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["awa.traore@example.org"]
    assert "/verify-email/" in mail.outbox[0].body
    assert "Bonjour Awa" in mail.outbox[0].body
    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == "+22370000101"
    assert re.search(r"\b\d{6}\b", sms_outbox[0].text)


def test_register_existing_email_creates_nothing_and_sends_a_manage_link(
    django_capture_on_commit_callbacks,
):
    first = register().citizen
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = register_with(person(email="AWA.traore@example.org", given_name="Other"))

    assert not again.created
    assert again.citizen.id == first.id
    assert Citizen.objects.count() == 1
    assert Presence.objects.count() == 1
    assert len(mail.outbox) == 1
    assert "/manage/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"person_input": person(phone="+223 12")}, "phone"),
        ({"person_input": person(phone="not a phone")}, "phone"),
        ({"person_input": person(email="no-at-sign")}, "email"),
        ({"person_input": person(given_name=" ")}, "given_name"),
        ({"person_input": person(given_name="x" * 101)}, "given_name"),
        ({"person_input": person(notify_by_email=False, notify_by_sms=False)}, "notify_by_email"),
        ({"person_input": person(phone="", notify_by_sms=True)}, "phone"),
        ({"person_input": person(date_of_birth=datetime.date(2999, 1, 1))}, "date_of_birth"),
        ({"presence": presence(country="XX")}, "presence.country"),
        ({"presence": presence(region="ML-99")}, "presence.region"),
        ({"presence": presence(region="LB-BA")}, "presence.region"),
        (
            {"presence": presence(end_date=TODAY - datetime.timedelta(days=1))},
            "presence.end_date",
        ),
        ({"presence": presence(), "kind": "trip"}, "presence.end_date"),
        ({"presence": presence(city="c" * 101)}, "presence.city"),
        ({"consent": False}, "consent"),
        (
            {
                "household": [services.HouseholdMemberInput(name="Kid", relation="child")]
                * (services.MAX_HOUSEHOLD + 1)
            },
            "household",
        ),
        (
            {"household": [services.HouseholdMemberInput(name="Kid", relation="child", phone="1")]},
            "household.0.phone",
        ),
    ],
)
def test_register_refuses_bad_input_naming_the_field_and_writes_nothing(kwargs, field):
    person_input = kwargs.pop("person_input", person())

    with pytest.raises(ValidationFailed) as refused:
        register_with(person_input, **kwargs)

    assert refused.value.field == field
    assert Citizen.objects.count() == 0
    assert HouseholdMember.objects.count() == 0
    assert Presence.objects.count() == 0


def test_database_refuses_inconsistent_presences():
    citizen = CitizenFactory()
    for bad in (
        {"start_date": TODAY, "end_date": TODAY - datetime.timedelta(days=1)},
        {"region_id": "LB-BA"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Presence.objects.create(
                citizen=citizen, kind="residence", country_id="ML", **({"start_date": TODAY} | bad)
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        Presence.objects.create(
            citizen=citizen, kind="trip", trip=None, country_id="ML", start_date=TODAY
        )


def test_email_verification_link_verifies_only_the_current_address(
    django_capture_on_commit_callbacks,
):
    citizen = register().citizen
    old_token = tokens.verify_email_token(citizen.id, citizen.email)

    with django_capture_on_commit_callbacks(execute=True):
        services.citizen_update(citizen=citizen, person=person(email="new@example.org"))

    # The new address is sent its own link, once.
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
    emailed = re.search(r"/verify-email/([^/\s]+)/", mail.outbox[0].body)
    assert emailed is not None
    with pytest.raises(ValidationFailed):
        services.email_verify(token=old_token)
    assert services.email_verify(token=emailed.group(1)).email_verified_at is not None
    verified = services.email_verify(token=tokens.verify_email_token(citizen.id, "new@example.org"))
    assert verified.email_verified_at is not None


def test_a_link_sent_before_links_carried_a_digest_still_verifies_its_own_address():
    citizen = register().citizen
    other = register_with(person(email="other@example.org")).citizen
    # What links held until now: the address itself, signed.
    legacy = signing.TimestampSigner(salt=tokens.VERIFY_EMAIL_SALT).sign(
        f"{citizen.id}:{citizen.email}"
    )
    forged = signing.TimestampSigner(salt=tokens.VERIFY_EMAIL_SALT).sign(
        f"{other.id}:{citizen.email}"
    )

    assert services.email_verify(token=legacy).email_verified_at is not None
    with pytest.raises(ValidationFailed):
        services.email_verify(token=forged)


def test_email_verification_link_expires():
    citizen = register().citizen
    with time_machine.travel(datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)):
        token = tokens.verify_email_token(citizen.id, citizen.email)
    with (
        time_machine.travel(datetime.datetime(2026, 11, 28, 12, tzinfo=datetime.UTC)),
        pytest.raises(ValidationFailed),
    ):
        services.email_verify(token=token)


def _sent_code(sms_outbox) -> str:
    match = re.search(r"\b(\d{6})\b", sms_outbox[-1].text)
    assert match
    return match.group(1)


def test_phone_code_verifies_the_number_and_only_its_hash_is_stored(sms_outbox):
    citizen = CitizenFactory(phone_verified_at=None)
    services.phone_code_send(citizen_id=citizen.id)
    code = _sent_code(sms_outbox)
    citizen.refresh_from_db()
    assert code not in citizen.phone_code_hash

    services.phone_verify(citizen=citizen, code=code)

    citizen.refresh_from_db()
    assert citizen.phone_verified_at is not None
    assert citizen.phone_code_hash == ""


def test_each_phone_code_has_its_own_idempotency_key_that_names_no_one(sms_outbox):
    citizen = CitizenFactory(phone_verified_at=None)
    start = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        services.phone_code_send(citizen_id=citizen.id)
    with time_machine.travel(start + services.RESEND_INTERVAL * 2, tick=False):
        services.phone_code_send(citizen_id=citizen.id)

    first, second = (message.reference for message in sms_outbox)
    assert "" not in (first, second)
    assert first != second
    for reference in (first, second):
        assert str(citizen.id) not in reference
        assert citizen.id.hex not in reference
        assert citizen.phone.lstrip("+") not in reference


def test_phone_code_is_refused_after_too_many_wrong_attempts(sms_outbox):
    citizen = CitizenFactory(phone_verified_at=None)
    services.phone_code_send(citizen_id=citizen.id)
    code = _sent_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _attempt in range(tokens.CODE_MAX_ATTEMPTS):
        with pytest.raises(ValidationFailed):
            services.phone_verify(citizen=citizen, code=wrong)

    with pytest.raises(ValidationFailed):
        services.phone_verify(citizen=citizen, code=code)

    citizen.refresh_from_db()
    assert citizen.phone_verified_at is None


def test_phone_code_expires_after_ten_minutes(sms_outbox):
    citizen = CitizenFactory(phone_verified_at=None)
    start = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        services.phone_code_send(citizen_id=citizen.id)
    code = _sent_code(sms_outbox)

    with (
        time_machine.travel(start + datetime.timedelta(minutes=11)),
        pytest.raises(ValidationFailed),
    ):
        services.phone_verify(citizen=citizen, code=code)


def test_access_token_needs_the_emailed_code(django_capture_on_commit_callbacks):
    citizen = CitizenFactory(email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.access_code_request(email=citizen.email.upper())
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)

    with pytest.raises(ValidationFailed):
        services.access_token_issue(email=citizen.email, code="000000" if code != "000000" else "1")
    token = services.access_token_issue(email=citizen.email, code=code)

    assert tokens.me_token_citizen_id(token) == str(citizen.id)
    citizen.refresh_from_db()
    assert citizen.email_verified_at is not None


def test_access_code_request_for_unknown_email_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.access_code_request(email="nobody@example.org")
        services.manage_link_request(email="nobody@example.org")

    assert mail.outbox == []


def test_trip_legs_share_a_trip_and_check_out_ends_or_removes_them():
    citizen = CitizenFactory()
    legs = services.trip_add(
        citizen=citizen,
        legs=[
            presence(start_date=TODAY, end_date=TODAY + datetime.timedelta(days=5)),
            presence(
                country="LB",
                region="LB-BA",
                start_date=TODAY + datetime.timedelta(days=6),
                end_date=TODAY + datetime.timedelta(days=9),
            ),
        ],
    )
    assert len({leg.trip for leg in legs}) == 1

    ended = services.presence_check_out(
        citizen=citizen, presence_id=legs[0].id, on_date=TODAY + datetime.timedelta(days=2)
    )
    removed = services.presence_check_out(
        citizen=citizen, presence_id=legs[1].id, on_date=TODAY + datetime.timedelta(days=2)
    )

    assert ended is not None
    assert ended.end_date == TODAY + datetime.timedelta(days=2)
    assert removed is None
    assert Presence.objects.filter(citizen=citizen).count() == 1


def test_check_out_of_another_citizens_presence_is_not_found():
    other = PresenceFactory()
    with pytest.raises(NotFound):
        services.presence_check_out(citizen=CitizenFactory(), presence_id=other.id)


def test_trip_leg_errors_name_the_leg():
    with pytest.raises(ValidationFailed) as refused:
        services.trip_add(
            citizen=CitizenFactory(),
            legs=[
                presence(end_date=TODAY),
                presence(region="LB-BA", end_date=TODAY),
            ],
        )
    assert refused.value.field == "legs.1.region"
    assert Presence.objects.count() == 0


def test_changing_phone_resets_its_verification():
    citizen = CitizenFactory()
    services.citizen_update(
        citizen=citizen,
        person=person(email=citizen.email, phone="+961 3 000 101"),
    )
    citizen.refresh_from_db()
    assert citizen.phone == "+9613000101"
    assert citizen.phone_verified_at is None
    assert citizen.email_verified_at is not None


def test_delete_leaves_nothing_about_the_citizen():
    citizen = register(household=[services.HouseholdMemberInput(name="Kid", relation="child")])
    keeper = PresenceFactory()
    services.trip_add(citizen=citizen.citizen, legs=[presence(end_date=TODAY)])

    services.citizen_delete(citizen=citizen.citizen)

    assert not Citizen.objects.filter(id=citizen.citizen.id).exists()
    assert HouseholdMember.objects.count() == 0
    assert list(Presence.objects.all()) == [keeper]


def test_export_holds_every_field_of_the_person_household_and_presences():
    citizen = register(household=[services.HouseholdMemberInput(name="Kid", relation="child")])
    data = selectors.citizen_export(citizen=citizen.citizen)

    person_fields = {f.attname for f in Citizen._meta.concrete_fields}
    hidden = {name for name in person_fields if "_code_" in name}
    assert set(data["citizen"]) == person_fields - hidden
    assert data["citizen"]["email"] == "awa.traore@example.org"
    assert [member["name"] for member in data["household"]] == ["Kid"]
    assert set(data["household"][0]) == {
        f.attname for f in HouseholdMember._meta.concrete_fields
    } - {"citizen_id"}
    assert [row["region_id"] for row in data["presences"]] == ["ML-7"]
    assert set(data["presences"][0]) == {f.attname for f in Presence._meta.concrete_fields} - {
        "citizen_id"
    }


@time_machine.travel(datetime.datetime(2026, 11, 24, 3, tzinfo=datetime.UTC), tick=False)
def test_retention_deletes_old_trips_and_citizens_left_without_presence(settings):
    settings.RETENTION_TRIP_DAYS = 30
    traveller = CitizenFactory()
    trip_leg(
        citizen=traveller,
        start_date=TODAY - datetime.timedelta(days=40),
        end_date=TODAY - datetime.timedelta(days=31),
    )
    recent = CitizenFactory()
    recent_leg = trip_leg(
        citizen=recent,
        start_date=TODAY - datetime.timedelta(days=40),
        end_date=TODAY - datetime.timedelta(days=30),
    )
    resident = CitizenFactory()
    PresenceFactory(citizen=resident, start_date=datetime.date(2020, 1, 1))

    summary = services.retention_apply()

    assert summary == {"presences": 1, "citizens_without_presence": 1, "citizens_unconfirmed": 0}
    assert set(Citizen.objects.values_list("id", flat=True)) == {recent.id, resident.id}
    assert Presence.objects.filter(id=recent_leg.id).exists()


def test_residents_are_asked_yearly_and_removed_without_confirmation(
    settings, django_capture_on_commit_callbacks
):
    settings.RETENTION_CONFIRM_EVERY_DAYS = 365
    settings.RETENTION_CONFIRMATION_GRACE_DAYS = 60
    start = datetime.datetime(2026, 1, 1, 3, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        silent = CitizenFactory()
        PresenceFactory(citizen=silent, start_date=datetime.date(2025, 1, 1))
        answering = CitizenFactory()
        PresenceFactory(citizen=answering, start_date=datetime.date(2025, 1, 1))
        traveller = CitizenFactory()
        trip_leg(
            citizen=traveller,
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2027, 6, 1),
        )

    asked_at = start + datetime.timedelta(days=366)
    with time_machine.travel(asked_at, tick=False):
        due = services.confirmation_requests_due()
        assert services.confirmation_requests_due() == []
        for citizen_id in due:
            services.confirmation_request_send(citizen_id=citizen_id)
    assert set(due) == {str(silent.id), str(answering.id)}
    assert len(mail.outbox) == 2
    assert "/manage/" in mail.outbox[0].body

    with time_machine.travel(asked_at + datetime.timedelta(days=10), tick=False):
        services.citizen_confirm(citizen=Citizen.objects.get(id=answering.id))
    with time_machine.travel(asked_at + datetime.timedelta(days=61), tick=False):
        summary = services.retention_apply()

    assert summary["citizens_unconfirmed"] == 1
    assert set(Citizen.objects.values_list("id", flat=True)) == {answering.id, traveller.id}


def test_requested_messages_to_one_address_are_capped_per_hour(
    django_capture_on_commit_callbacks,
):
    citizen = CitizenFactory(email="often@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        for _request in range(services.MESSAGES_PER_HOUR + 3):
            services.manage_link_request(email="often@example.org")

    assert len(mail.outbox) == services.MESSAGES_PER_HOUR
    assert all(message.to == [citizen.email] for message in mail.outbox)


def test_phone_codes_asked_too_often_are_refused_on_the_phone_field():
    citizen = CitizenFactory(phone_verified_at=None)
    for _request in range(services.MESSAGES_PER_HOUR):
        services.phone_verification_request(citizen=citizen)

    with pytest.raises(ValidationFailed) as refused:
        services.phone_verification_request(citizen=citizen)

    assert refused.value.field == "phone"
