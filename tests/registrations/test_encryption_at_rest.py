"""A dump of the database holds none of the personal data the issue lists: only tokens."""

import datetime
import os
import re
import shutil
import subprocess

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Membership
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.services import cases as case_services
from cases.services import safety_checks
from notifications.models import InboundMessage
from registrations import services
from registrations.models import Citizen, HouseholdMember
from tests.accounts.factories import PostFactory, staff_at
from tests.notifications.test_webhooks import INBOUND_PATH, SECRET, http_post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("geography"),
]

# Each value is one a real dump could not hold by chance.
CANARIES = {
    "email": "canary-mail-7f3a@example.org",
    "phone": "+9613123457",
    "id_document_number": "CANARYDOC4711",
    "date_of_birth": "1983-04-17",
    "emergency_contact_name": "Canaryemergency Zzyzx",
    "emergency_contact_relation": "Canaryrelation",
    "emergency_contact_phone": "+9613765432",
    "emergency_contact_email": "canary-ice-9b2c@example.org",
    "member_name": "Canaryhousehold Qwxv",
    "member_relation": "Canarykin",
    "member_phone": "+9613246813",
    "member_date_of_birth": "2015-09-23",
    "sms_body": "Canarytext at the hotel",
    "response_location": "Canaryhotel Zqxw room 12",
    "response_details": "Canaryinjury of the left leg",
    "case_summary": "Canarysummary walk-in lost passport",
    "case_opening": "Canaryopening brother in Tyre",
    "case_note": "Canarynote sister worried",
    "case_call": "Canarycall ambulance on its way",
}


def _pg_dump() -> str:
    db = connection.settings_dict
    command = [shutil.which("pg_dump") or "pg_dump", "--no-owner", "--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_a_dump_of_the_database_holds_no_canary_value(api_client, settings, sms_outbox):
    settings.SMS_HTTP_WEBHOOK_SECRET = SECRET
    today = timezone.localdate()
    registered = api_client.post(
        "/api/v1/registrations/",
        {
            "given_name": "Claire",
            "family_name": "Martin",
            "email": CANARIES["email"].upper(),
            "phone": "+961 3 123 457",
            "date_of_birth": CANARIES["date_of_birth"],
            "id_document_type": "passport",
            "id_document_number": CANARIES["id_document_number"],
            "emergency_contact_name": CANARIES["emergency_contact_name"],
            "emergency_contact_relation": CANARIES["emergency_contact_relation"],
            "emergency_contact_phone": "+961 3 765 432",
            "emergency_contact_email": CANARIES["emergency_contact_email"],
            "language": "fr",
            "notify_by_email": True,
            "notify_by_sms": True,
            "household": [
                {
                    "name": CANARIES["member_name"],
                    "relation": CANARIES["member_relation"],
                    "date_of_birth": CANARIES["member_date_of_birth"],
                    "phone": "+961 3 246 813",
                }
            ],
            "presence": {"kind": "residence", "country": "LB", "start_date": today.isoformat()},
            "consent": True,
        },
        format="json",
    )
    assert registered.status_code == 201, registered.data
    link = re.search(r"/verify-email/[^/\s]+/", mail.outbox[-1].body).group(0)
    assert api_client.get(link).status_code in {200, 302}
    citizen = Citizen.objects.get()
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1].text).group(1)
    services.phone_verify(citizen=citizen, code=code)
    received = http_post(
        api_client,
        INBOUND_PATH.format(provider="http"),
        {"id": "in-1", "from": CANARIES["phone"], "body": CANARIES["sms_body"]},
    )
    assert received.status_code == 204
    PostFactory(code="post-lb", name="Embassy in Beirut", countries=["LB"])
    officer = staff_at("LB", Membership.Role.OFFICER, username="beirut-officer")
    check = SafetyCheck.objects.create(
        code="CNRY",
        country_id="LB",
        question_en="Are you safe?",
        question_fr="Êtes-vous en sécurité ?",
        deadline=timezone.now() + datetime.timedelta(hours=6),
    )
    safety_checks.response_record(
        check=check,
        citizen_id=citizen.id,
        answer=safety_checks.Answer(
            status=SafetyResponse.Status.NEEDS_HELP,
            via=SafetyResponse.Via.WEB,
            location=CANARIES["response_location"],
            details=CANARIES["response_details"],
        ),
    )
    case = case_services.case_open(
        opened_by=officer,
        kind=Case.Kind.DOCUMENTS,
        country_code="LB",
        summary=CANARIES["case_summary"],
        citizen_id=citizen.id,
        text=CANARIES["case_opening"],
    )
    case_services.case_note_add(case=case, actor=officer, text=CANARIES["case_note"])
    case_services.case_note_add(
        case=case, actor=officer, text=CANARIES["case_call"], kind=CaseEvent.Kind.CALL
    )

    dump = _pg_dump()

    # The dump is of this database, holding this registration (its clear name, its tokens).
    assert "Martin" in dump
    assert str(citizen.id) in dump
    for name, canary in CANARIES.items():
        assert canary not in dump, name
        assert canary.upper() not in dump, name
    # What the application reads back is the clear value.
    citizen = Citizen.objects.get()
    assert citizen.email_verified_at is not None
    assert citizen.phone_verified_at is not None
    assert (citizen.email, citizen.phone) == (CANARIES["email"], CANARIES["phone"])
    assert citizen.date_of_birth.isoformat() == CANARIES["date_of_birth"]
    assert citizen.emergency_contact_phone == CANARIES["emergency_contact_phone"]
    member = HouseholdMember.objects.get()
    assert (member.name, member.phone) == (CANARIES["member_name"], CANARIES["member_phone"])
    message = InboundMessage.objects.get()
    assert (message.sender, message.body, message.citizen_id) == (
        CANARIES["phone"],
        CANARIES["sms_body"],
        citizen.id,
    )
    response = SafetyResponse.objects.get()
    assert (response.location, response.details) == (
        CANARIES["response_location"],
        CANARIES["response_details"],
    )
    assert Case.objects.get(id=case.id).summary == CANARIES["case_summary"]
    assert set(CaseEvent.objects.filter(case=case).values_list("text", flat=True)) == {
        CANARIES["case_opening"],
        CANARIES["case_note"],
        CANARIES["case_call"],
    }
