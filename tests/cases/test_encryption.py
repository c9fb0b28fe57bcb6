"""What people say about themselves in safety checks and cases is encrypted at rest, each value
bound to its row (core.crypto), and the migration that introduced it encrypts what was clear."""

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from cases.models import Case, CaseEvent, SafetyResponse
from cases.services import cases as case_services
from cases.services import safety_checks
from core import crypto
from tests.cases.conftest import citizen_in, start_check
from tests.core.raw_columns import store, stored

pytestmark = pytest.mark.django_db

HELP = safety_checks.Answer(
    status=SafetyResponse.Status.NEEDS_HELP,
    via=SafetyResponse.Via.WEB,
    help_kind=SafetyResponse.HelpKind.MEDICAL,
    location="Hotel Atlantide, room 12",
    details="My leg is broken",
)


@pytest.fixture
def helped(bamako_officer):
    """A citizen asked by a check who needs help: an answer, a case, a note and a call."""
    citizen = citizen_in("ML-7")
    check = start_check(bamako_officer)
    response = safety_checks.response_record(check=check, citizen_id=citizen.id, answer=HELP)
    case = Case.objects.get(citizen=citizen)
    case_services.case_note_add(case=case, actor=bamako_officer, text="Sister in Lyon worried")
    case_services.case_note_add(
        case=case, actor=bamako_officer, text="Called him: ambulance", kind=CaseEvent.Kind.CALL
    )
    return response, case


def test_answers_cases_and_timelines_are_stored_as_tokens_and_read_in_clear(helped):
    response, case = helped
    tokens = [
        stored(SafetyResponse, response.id, "location"),
        stored(SafetyResponse, response.id, "details"),
        *(stored(CaseEvent, event.id, "text") for event in case.events.all()),
    ]

    assert all(value.startswith("gAAAA") for value in tokens)
    fresh = SafetyResponse.objects.get(id=response.id)
    assert (fresh.location, fresh.details) == (HELP.location, HELP.details)
    # Nothing of the person in the summary of a case the system opened: it is said on reading.
    assert stored(Case, case.id, "summary") == ""
    assert Case.objects.get(id=case.id).summary_text.startswith("Asked for help in safety check")
    assert list(case.events.values_list("kind", "text")) == [
        (CaseEvent.Kind.OPENED, f"Needs help · Medical · {HELP.location} · {HELP.details}"),
        (CaseEvent.Kind.NOTE, "Sister in Lyon worried"),
        (CaseEvent.Kind.CALL, "Called him: ambulance"),
    ]


def test_rotation_encrypts_answers_and_timelines_again_under_the_new_key(helped, settings):
    response, case = helped
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    out = io.StringIO()

    call_command("rotate_encryption_keys", stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]

    assert SafetyResponse.objects.get(id=response.id).location == HELP.location
    assert Case.objects.get(id=case.id).summary_text.startswith("Asked for help")
    assert case.events.get(kind=CaseEvent.Kind.CALL).text == "Called him: ambulance"
    assert "cases.CaseEvent: 3 rows" in out.getvalue()


def test_a_timeline_text_copied_into_another_case_is_refused(helped, bamako_officer):
    _response, case = helped
    other = case_services.case_open(
        opened_by=bamako_officer, kind=Case.Kind.WELFARE, country_code="ML", summary="Walk-in"
    )
    call = case.events.get(kind=CaseEvent.Kind.CALL)
    opened = other.events.get()
    store(CaseEvent, opened.id, text=stored(CaseEvent, call.id, "text"))

    with pytest.raises(crypto.MisplacedValue, match=r"cases_caseevent\.text"):
        list(other.events.all())
    # Answers and events are bound to their own random key, not to their autoincrement id.
    assert call.row_key != opened.row_key


def test_the_answers_inserted_in_sql_get_a_key_each(bamako_officer):
    citizen_in("ML-7")
    citizen_in("ML-7")

    check = start_check(bamako_officer)

    keys = list(SafetyResponse.objects.filter(safety_check=check).values_list("row_key", flat=True))
    assert len(keys) == 2
    assert None not in keys
    assert len(set(keys)) == 2


@pytest.mark.postgres  # SQLite cannot open a schema editor inside the test's transaction
def test_the_migration_encrypts_the_clear_text_already_there(helped):
    response, case = helped
    # As the rows were before it: clear text, and row keys yet to draw.
    store(SafetyResponse, response.id, location="Gao market", details="")
    store(Case, case.id, summary="Walk-in: lost passport")
    for event in case.events.all():
        store(CaseEvent, event.id, text=f"Clear {event.kind}")
    migration = importlib.import_module("cases.migrations.0003_encrypt_free_text")

    with connection.schema_editor() as editor:
        migration.draw_row_keys(apps, editor)
    migration.encrypt(apps, None)

    fresh = SafetyResponse.objects.get(id=response.id)
    assert (fresh.location, fresh.details) == ("Gao market", "")
    assert stored(SafetyResponse, response.id, "location").startswith("gAAAA")
    assert Case.objects.get(id=case.id).summary == "Walk-in: lost passport"
    assert list(case.events.values_list("text", flat=True)) == [
        "Clear opened",
        "Clear note",
        "Clear call",
    ]
    keys = set(CaseEvent.objects.values_list("row_key", flat=True))
    assert len(keys) == CaseEvent.objects.count()
