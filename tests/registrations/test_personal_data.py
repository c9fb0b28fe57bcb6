"""Data-subject rights across every app: the export names every row about the citizen, the
erasure leaves none that identifies them, and no model can hold a citizen unnoticed."""

import datetime
import json

import pytest
from django.apps import apps
from django.db.models import CharField, F, JSONField, Model, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Membership
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.services import cases as case_services
from core import crypto, personal_data
from core.models import AuditEvent
from notifications.models import (
    Alert,
    Delivery,
    InboundMessage,
    OutboxMessage,
    Suppression,
)
from registrations import selectors, services, tokens
from registrations.models import Citizen, HouseholdMember
from tests.accounts.factories import login_verified, staff_at
from tests.notifications.factories import AlertFactory, DeliveryFactory
from tests.registrations.factories import (
    CitizenFactory,
    HouseholdMemberFactory,
    PresenceFactory,
)

# Every personal value of the erased citizen contains one of these.
CANARY = "zqxcanary"
CANARY_PHONE = "+22370009876"
CANARY_CONTACT_PHONE = "+22370005432"


def _related_to_a_person(model: type[Model]) -> bool:
    fields = [*model._meta.local_fields, *model._meta.local_many_to_many]
    return any(
        field.is_relation and field.related_model in (Citizen, HouseholdMember) for field in fields
    )


def test_every_model_related_to_a_citizen_is_exported_and_erased():
    related = {
        model._meta.label_lower
        for model in apps.get_models(include_auto_created=True)
        if _related_to_a_person(model)
    }

    # The walk does find the relations (including a many-to-many's own table).
    assert {"notifications.delivery", "cases.case_household_members"} <= related
    assert related - personal_data.covered_models() == set()
    assert all(callable(h.export) and callable(h.erase) for h in personal_data.holders())


def test_every_model_holding_encrypted_values_is_exported_and_erased():
    encrypted = {model._meta.label_lower for model in crypto.encrypted_models()}

    # The free text of safety answers and cases is among them.
    assert {"cases.safetyresponse", "cases.case", "cases.caseevent"} <= encrypted
    assert encrypted - personal_data.covered_models() == set()


def _text_columns(model: type[Model]) -> list[str]:
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, CharField | TextField | JSONField)
    ]


def _rows_holding(value: str) -> dict[str, int]:
    """Rows of any installed table with `value` in a text or JSON column."""
    found: dict[str, int] = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        for name in _text_columns(model):
            if isinstance(model._meta.get_field(name), crypto.EncryptedMixin):
                # The database holds tokens: search what they decrypt to.
                count = sum(
                    value.lower() in text.lower()
                    for text in model._default_manager.values_list(name, flat=True)
                )
            else:
                count = (
                    model._default_manager.annotate(_text=Cast(F(name), TextField()))
                    .filter(_text__icontains=value)
                    .count()
                )
            if count:
                found[f"{model._meta.label_lower}.{name}"] = count
    return found


@pytest.fixture
def officer(geography):
    return staff_at("ML", Membership.Role.OFFICER, username="ml-officer")


@pytest.fixture
def canary(officer):
    """A citizen with a row in every model that can hold one, each carrying canary values."""
    citizen = CitizenFactory(
        given_name=f"Awa{CANARY}",
        family_name=f"Traoré{CANARY}",
        email=f"{CANARY}@example.org",
        phone=CANARY_PHONE,
        emergency_contact_name=f"Moussa {CANARY}",
        emergency_contact_phone=CANARY_CONTACT_PHONE,
        emergency_contact_email=f"{CANARY}-contact@example.org",
    )
    PresenceFactory(citizen=citizen, city=f"Gao {CANARY}")
    member = HouseholdMemberFactory(citizen=citizen, name=f"Kid {CANARY}", phone=CANARY_PHONE)

    alert = AlertFactory()
    DeliveryFactory(alert=alert, citizen=citizen, channel="sms")
    DeliveryFactory(
        alert=alert,
        citizen=citizen,
        channel="email",
        status=Delivery.Status.FAILED,
        provider_id="",
        error_code="550",
        error_reason=f"{CANARY}@example.org refused",
    )
    Suppression.objects.create(citizen=citizen, channel="sms", reason="opt_out")
    InboundMessage.objects.create(
        provider="twilio",
        provider_id="SM-linked",
        sender=CANARY_PHONE,
        body=f"HELP hiding at the {CANARY} hotel",
        citizen=citizen,
    )
    # Sent from their number before it was verified: it matched nobody, but it is theirs.
    InboundMessage.objects.create(
        provider="twilio", provider_id="SM-unmatched", sender=CANARY_PHONE, body="hello"
    )
    OutboxMessage.objects.create(channel="sms", to=CANARY_PHONE, body=f"Dear Awa{CANARY}")
    OutboxMessage.objects.create(
        channel="email", to=f"{CANARY}-contact@example.org", body="Have you heard from Awa?"
    )

    check = SafetyCheck.objects.create(
        code="K7Q2",
        country_id="ML",
        region_codes=["ML-7"],
        question_en="Are you safe?",
        question_fr="Êtes-vous en sécurité ?",
        deadline=timezone.now() + datetime.timedelta(hours=6),
        created_by=officer,
    )
    SafetyResponse.objects.create(
        safety_check=check,
        citizen=citizen,
        region_code="ML-7",
        people=2,
        status=SafetyResponse.Status.NEEDS_HELP,
        via=SafetyResponse.Via.WEB,
        location=f"{CANARY} hotel",
        help_kind=SafetyResponse.HelpKind.MEDICAL,
        details=f"my leg, {CANARY}",
        answered_at=timezone.now(),
    )
    case = case_services.case_open_by_citizen(
        citizen_id=citizen.id,
        country_code="ML",
        region_code="ML-7",
        help_kind="medical",
        text=f"Please call {CANARY_PHONE}",
    )
    case.household_members.set([member])
    case_services.case_note_add(case=case, actor=officer, text=f"Internal: {CANARY} is anxious")
    case_services.case_message_send(
        case=case, actor=officer, subject="Help is coming", text=f"Dear Awa{CANARY}, hold on"
    )
    return citizen


@pytest.mark.postgres
def test_export_holds_every_row_about_the_citizen_in_every_app(canary):
    other = CitizenFactory()
    DeliveryFactory(alert=Delivery.objects.first().alert, citizen=other)

    data = json.loads(json.dumps(selectors.citizen_export(citizen=canary)))

    assert data["citizen"]["email"] == f"{CANARY}@example.org"
    assert [member["name"] for member in data["household"]] == [f"Kid {CANARY}"]
    assert len(data["presences"]) == 1
    assert sorted(row["channel"] for row in data["deliveries"]) == ["email", "sms"]
    kinds = set(Delivery.objects.filter(citizen=canary).values_list("alert__kind", flat=True))
    assert {row["alert_kind"] for row in data["deliveries"]} == kinds
    assert [row["channel"] for row in data["suppressions"]] == ["sms"]
    assert [row["body"] for row in data["inbound_messages"]] == [
        f"HELP hiding at the {CANARY} hotel"
    ]
    [response] = data["safety_responses"]
    assert (response["safety_check"], response["location"]) == ("K7Q2", f"{CANARY} hotel")
    assert "row_key" not in response  # the key its texts are bound to says nothing of them
    [case] = data["cases"]
    assert case["household_members"] == [f"Kid {CANARY}"]
    timeline = {event["kind"]: event["text"] for event in case["timeline"]}
    assert timeline == {
        CaseEvent.Kind.OPENED: f"Please call {CANARY_PHONE}",
        CaseEvent.Kind.MESSAGE: f"Dear Awa{CANARY}, hold on",
    }
    # Staff's working notes are not theirs to read; nor is anyone else's delivery.
    assert "Internal" not in json.dumps(data)
    assert str(other.id) not in json.dumps(data)


@pytest.mark.postgres
def test_erasure_leaves_no_canary_anywhere_and_keeps_the_counts(canary):
    other = CitizenFactory()
    kept = DeliveryFactory(alert=Delivery.objects.first().alert, citizen=other, error_reason="x")
    counts = {
        model: model.objects.count()
        for model in (Delivery, SafetyResponse, Case, InboundMessage, Alert)
    }
    assert _rows_holding(CANARY)  # the scenario does put the canaries everywhere

    services.citizen_delete(citizen=canary)

    assert _rows_holding(CANARY) == {}
    assert _rows_holding(CANARY_PHONE) == {}
    assert _rows_holding(CANARY_CONTACT_PHONE) == {}
    assert {model: model.objects.count() for model in counts} == counts
    assert Suppression.objects.count() == OutboxMessage.objects.count() == 0
    assert not Delivery.objects.filter(citizen_id=canary.id).exists()
    kept.refresh_from_db()
    assert (kept.citizen_id, kept.error_reason) == (other.id, "x")
    response = SafetyResponse.objects.get()
    assert (response.citizen_id, response.status, response.people, response.region_code) == (
        None,
        SafetyResponse.Status.NEEDS_HELP,
        2,
        "ML-7",
    )
    case = Case.objects.get()
    assert (case.citizen_id, case.summary) == (None, "[erased]")
    assert case.household_members.count() == 0
    assert case.events.filter(kind=CaseEvent.Kind.ERASED).count() == 1
    event = AuditEvent.objects.get(detail__erasure="request")
    assert event.object_id == str(canary.id)
    assert event.detail["rows"]["notifications.delivery"] == 2
    assert event.detail["rows"]["cases.safetyresponse"] == 1


@pytest.mark.postgres
def test_staff_pages_still_work_after_erasure(client, canary, officer):
    case = Case.objects.get()
    alert = Delivery.objects.first().alert
    check = SafetyCheck.objects.get()
    services.citizen_delete(citizen=canary)
    login_verified(client, officer)

    pages = [
        f"/admin/cases/case/{case.id}/change/",
        f"/staff/cases/{case.id}/",
        "/staff/cases/",
        f"/admin/notifications/delivery/?alert__id__exact={alert.id}",
        f"/admin/notifications/alert/{alert.id}/change/",
        f"/staff/checks/{check.id}/",
        f"/staff/checks/{check.id}/export.csv?status=needs_help",
    ]
    responses = {page: client.get(page) for page in pages}

    assert {page: r.status_code for page, r in responses.items()} == dict.fromkeys(pages, 200)
    assert "[erased]" in responses[f"/staff/cases/{case.id}/"].content.decode()
    assert CANARY not in b"".join(r.content for r in responses.values()).decode()


@pytest.mark.postgres
def test_retention_erases_across_apps_too(canary, settings):
    settings.RETENTION_TRIP_DAYS = 30
    canary.presences.update(
        kind="trip",
        trip=canary.id,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2020, 1, 2),
    )

    summary = services.retention_apply()

    assert summary["citizens_without_presence"] == 1
    assert _rows_holding(CANARY) == {}
    assert SafetyResponse.objects.get().citizen_id is None
    assert AuditEvent.objects.filter(detail__erasure="retention").count() == 1


@pytest.mark.postgres
def test_manage_page_download_includes_every_app(client, canary):
    path = f"/manage/{tokens.manage_token(canary.id)}/export.json"

    data = json.loads(client.get(path).content)

    assert {"deliveries", "suppressions", "inbound_messages", "safety_responses", "cases"} <= set(
        data
    )
    assert len(data["deliveries"]) == 2
