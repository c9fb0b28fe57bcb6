import datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.selectors import check_board, check_of_response_token
from cases.services import safety_checks
from core import events
from core.exceptions import PermissionDenied, ValidationFailed
from core.models import OutboxEvent
from notifications.inbound import inbound_route
from notifications.models import Alert, Delivery, InboundMessage
from tests.cases.conftest import citizen_in, draft_check, second_person, start_check, text_in
from tests.notifications.factories import AlertFactory

Status = SafetyResponse.Status
HELP = safety_checks.Answer(
    status=Status.NEEDS_HELP,
    via=SafetyResponse.Via.WEB,
    help_kind=SafetyResponse.HelpKind.EVACUATION,
    people_with_them=3,
    location="Hotel Atlantide",
)
SAFE = safety_checks.Answer(status=Status.SAFE, via=SafetyResponse.Via.WEB)


def test_start_asks_everyone_present_by_email_with_links_and_by_sms_with_the_code(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", household=2, language="fr", name="Awa")
    citizen_in("ML-1", name="Moussa")

    check = start_check(bamako_officer, django_capture_on_commit_callbacks)

    [response] = SafetyResponse.objects.filter(safety_check=check)
    assert (response.citizen_id, response.status, response.people) == (awa.id, Status.PENDING, 3)
    [email] = mail.outbox
    assert email.to == [awa.email]
    assert "Combats signalés à Gao" in email.body
    safe_link = next(line for line in email.body.splitlines() if "/safe/" in line)
    token = safe_link.split("/safety/")[1].split("/")[0]
    assert check_of_response_token(token) == (check, str(awa.id))
    [sms] = sms_outbox
    assert sms.to == awa.phone
    assert sms.text == (
        "Combats signalés à Gao. Êtes-vous en sécurité ? "
        f"Répondez OK {check.code} ou AIDE {check.code}."
    )
    assert "Je suis en sécurité : http" in email.body
    assert check.question_alert.kind == Alert.Kind.MESSAGE


def test_the_text_message_asks_for_the_reply_keywords_of_the_citizens_language(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", language="en", name="Awa")

    check = start_check(bamako_officer, django_capture_on_commit_callbacks)

    [sms] = sms_outbox
    assert sms.to == awa.phone
    assert sms.text.endswith(f"Reply SAFE {check.code} or HELP {check.code}.")


@pytest.mark.parametrize(
    ("language", "reply", "status"),
    [
        ("en", "ok {code}", Status.SAFE),
        ("en", "Aide {code}", Status.NEEDS_HELP),
        ("fr", "SAFE {code}", Status.SAFE),
        ("fr", "help {code}!", Status.NEEDS_HELP),
        ("fr", "OK {code}", Status.SAFE),
        ("fr", " aide {code}.", Status.NEEDS_HELP),
        ("fr", "sécurite {code}", Status.SAFE),
    ],
)
def test_every_reply_keyword_is_accepted_in_both_languages(
    language, reply, status, bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", language=language, name="Awa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)

    text_in(awa.phone, reply.format(code=check.code), django_capture_on_commit_callbacks)

    assert SafetyResponse.objects.get(citizen=awa).status == status


def test_only_officers_of_the_country_start_a_check(
    beirut_officer, bamako_officer, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied):
        start_check(beirut_officer, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationFailed):
        start_check(bamako_officer, django_capture_on_commit_callbacks, region_codes=["LB-BA"])


def test_sms_safe_and_help_with_the_code_are_recorded(
    bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", name="Awa")
    moussa = citizen_in("ML-7", name="Moussa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)

    text_in(awa.phone, f"safe {check.code.lower()}", django_capture_on_commit_callbacks)
    text_in(moussa.phone, f"HELP {check.code} we are 4", django_capture_on_commit_callbacks)

    statuses = dict(
        SafetyResponse.objects.filter(safety_check=check).values_list("citizen_id", "status")
    )
    assert statuses == {awa.id: Status.SAFE, moussa.id: Status.NEEDS_HELP}
    [case] = Case.objects.all()
    assert (case.citizen_id, case.post.code, case.region_id) == (moussa.id, "post-ml", "ML-7")
    assert case.source == Case.Source.NEEDS_HELP


def test_unclear_sms_gets_a_short_clarification_through_the_ledger(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", name="Awa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    sms_outbox.clear()

    text_in(awa.phone, "what is happening?", django_capture_on_commit_callbacks)

    [clarification] = sms_outbox
    assert clarification.to == awa.phone
    assert f"SAFE {check.code}" in clarification.text
    assert f"HELP {check.code}" in clarification.text
    assert Delivery.objects.filter(citizen_id=awa.id, channel="sms").count() == 2
    assert SafetyResponse.objects.get(citizen=awa).status == Status.PENDING


def test_a_french_clarification_asks_for_the_french_keywords(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", language="fr", name="Awa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    sms_outbox.clear()

    text_in(awa.phone, "que se passe-t-il ?", django_capture_on_commit_callbacks)

    [clarification] = sms_outbox
    assert clarification.text.endswith(f"Répondez OK {check.code} ou AIDE {check.code}.")


def test_sms_from_someone_without_an_open_check_gets_nothing(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-1", name="Awa")
    start_check(bamako_officer, django_capture_on_commit_callbacks)

    text_in(awa.phone, "hello", django_capture_on_commit_callbacks)

    assert sms_outbox == []


def test_the_same_reply_event_twice_records_the_answer_once(
    bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", name="Awa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    text_in(awa.phone, f"HELP {check.code}", django_capture_on_commit_callbacks)
    message = InboundMessage.objects.get()

    # Relayed again (its dispatcher died before marking it), or routed twice.
    again = inbound_route(message_id=str(message.id))

    assert again == "unknown_or_handled"
    [case] = Case.objects.all()
    assert list(case.events.values_list("kind", flat=True)) == ["opened"]


def test_an_unclear_reply_relayed_twice_is_clarified_once(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", name="Awa")
    start_check(bamako_officer, django_capture_on_commit_callbacks)
    sms_outbox.clear()
    text_in(awa.phone, "what is happening?", django_capture_on_commit_callbacks)
    row = OutboxEvent.objects.get(name="notifications.inbound_sms_received")
    OutboxEvent.objects.filter(id=row.id).update(dispatched_at=None, next_attempt_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        relayed = events.events_relay()

    assert relayed.dispatched == 1
    assert len(sms_outbox) == 1


def test_later_answer_supersedes_and_help_opens_exactly_one_case(
    bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", name="Awa", household=2)
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)

    safety_checks.response_record(check=check, citizen_id=awa.id, answer=SAFE)
    safety_checks.response_record(check=check, citizen_id=awa.id, answer=HELP)
    safety_checks.response_record(check=check, citizen_id=awa.id, answer=HELP)

    response = SafetyResponse.objects.get(citizen=awa)
    assert (response.status, response.people_with_them, response.location) == (
        Status.NEEDS_HELP,
        3,
        "Hotel Atlantide",
    )
    [case] = Case.objects.all()
    assert (case.kind, case.priority) == (Case.Kind.EVACUATION, Case.Priority.URGENT)
    assert case.household_members.count() == 2
    assert list(case.events.values_list("kind", flat=True)) == ["opened", "response"]

    safety_checks.response_record(check=check, citizen_id=awa.id, answer=SAFE)

    assert SafetyResponse.objects.get(citizen=awa).status == Status.SAFE
    assert case.events.count() == 3
    assert Case.objects.count() == 1


def test_reminder_then_emergency_contact_then_deadline_with_a_fixed_clock(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        awa = citizen_in("ML-7", name="Awa", household=1)
        awa.emergency_contact_phone = "+33611111111"
        awa.save()
        answered = citizen_in("ML-7", name="Moussa")
        check = start_check(
            bamako_officer,
            django_capture_on_commit_callbacks,
            reminder_minutes=60,
            deadline=start + datetime.timedelta(hours=3),
            open_case_on_no_response=True,
        )
        safety_checks.response_record(check=check, citizen_id=answered.id, answer=SAFE)
        sms_outbox.clear()

    with (
        time_machine.travel(start + datetime.timedelta(minutes=59), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert safety_checks.safety_checks_tick() == safety_checks.TickResult()
    assert sms_outbox == []

    with (
        time_machine.travel(start + datetime.timedelta(minutes=61), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert safety_checks.safety_checks_tick().reminded == 1
        assert safety_checks.safety_checks_tick().reminded == 0
    assert [m.to for m in sms_outbox] == [awa.phone]
    assert sms_outbox[0].text.startswith("Reminder:")

    with (
        time_machine.travel(start + datetime.timedelta(minutes=122), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert safety_checks.safety_checks_tick().escalated == 1
        safety_checks.safety_checks_tick()
    assert [m.to for m in sms_outbox] == [awa.phone, "+33611111111"]
    assert "Awa" in sms_outbox[1].text

    with (
        time_machine.travel(start + datetime.timedelta(hours=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = safety_checks.safety_checks_tick()
        assert safety_checks.safety_checks_tick().closed == 0
    assert (result.closed, result.cases_opened) == (1, 1)
    check.refresh_from_db()
    assert check.status == SafetyCheck.Status.CLOSED
    assert SafetyResponse.objects.get(citizen=awa).status == Status.NO_RESPONSE
    [case] = Case.objects.all()
    assert (case.citizen_id, case.kind, case.source) == (
        awa.id,
        Case.Kind.WELFARE,
        Case.Source.NO_RESPONSE,
    )
    assert case.events.get().kind == CaseEvent.Kind.OPENED
    assert [m.name for m in case.household_members.all()] == ["Member 0"]


def test_no_response_opens_no_case_unless_the_check_asks_for_it(
    bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)

    assert safety_checks.safety_check_close(check=check) == 0
    assert Case.objects.count() == 0
    assert SafetyResponse.objects.get().status == Status.NO_RESPONSE


def test_an_answer_after_the_deadline_still_counts(
    bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    safety_checks.safety_check_close(check=check)

    safety_checks.response_record(check=check, citizen_id=awa.id, answer=SAFE)

    assert SafetyResponse.objects.get().status == Status.SAFE


def test_board_counts_people_with_their_households_by_region(
    bamako_officer, django_capture_on_commit_callbacks
):
    safe = citizen_in("ML-7", household=2)
    helpme = citizen_in("ML-7", household=1)
    citizen_in("ML-7")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    safety_checks.response_record(check=check, citizen_id=safe.id, answer=SAFE)
    safety_checks.response_record(check=check, citizen_id=helpme.id, answer=HELP)

    board = check_board(check_id=check.id)

    assert {s: (t.citizens, t.people) for s, t in board.totals.items()} == {
        "pending": (1, 1),
        "safe": (1, 3),
        "needs_help": (1, 2),
        "no_response": (0, 0),
    }
    assert list(board.regions) == ["ML-7"]


def test_clarifications_stop_after_a_few_an_hour(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", name="Awa")
    start_check(bamako_officer, django_capture_on_commit_callbacks)
    sms_outbox.clear()

    for n in range(5):
        text_in(awa.phone, f"hello {n}", django_capture_on_commit_callbacks)

    assert len(sms_outbox) == safety_checks.CLARIFICATIONS_PER_HOUR


def test_safe_without_the_code_counts_for_the_only_open_check(
    bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", name="Awa")
    start_check(bamako_officer, django_capture_on_commit_callbacks)

    text_in(awa.phone, "Safe.", django_capture_on_commit_callbacks)

    assert SafetyResponse.objects.get(citizen=awa).status == Status.SAFE


def test_reminder_and_escalation_each_happen_once_and_only_when_due(bamako_officer):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        citizen_in("ML-7", name="Awa")
        check = start_check(bamako_officer, reminder_minutes=60)

    def minutes(n: int) -> datetime.datetime:
        return start + datetime.timedelta(minutes=n)

    assert safety_checks.safety_check_escalate(check=check, now=minutes(61)) == 0
    assert safety_checks.safety_check_remind(check=check, now=minutes(59)) == 0
    assert safety_checks.safety_check_remind(check=check, now=minutes(61)) == 1
    assert safety_checks.safety_check_remind(check=check, now=minutes(62)) == 0
    assert safety_checks.safety_check_escalate(check=check, now=minutes(120)) == 0
    assert safety_checks.safety_check_escalate(check=check, now=minutes(121)) == 1
    assert safety_checks.safety_check_escalate(check=check, now=minutes(122)) == 0

    check.refresh_from_db()
    assert (check.reminded_at, check.escalated_at) == (minutes(61), minutes(121))
    assert Alert.objects.filter(audience=Alert.Audience.EMERGENCY_CONTACTS).count() == 1


def test_messages_are_written_in_the_languages_the_site_offers(bamako_officer, settings):
    check = start_check(bamako_officer)
    settings.LANGUAGES = [("en", "English")]

    assert set(safety_checks._question_texts(check)) == {"en"}
    assert set(safety_checks._reminder_texts(check)) == {"en"}
    assert set(safety_checks._emergency_texts(check)) == {"en"}


def test_the_question_costs_the_same_queries_whatever_the_number_asked(
    bamako_officer, django_assert_num_queries
):
    approver = second_person("ML")

    def submitted() -> SafetyCheck:
        check = draft_check(bamako_officer)
        return safety_checks.safety_check_submit(check=check, submitted_by=bamako_officer)

    for n in range(3):
        citizen_in("ML-7", name=f"Small{n}", household=n)
    small_check = submitted()
    with CaptureQueriesContext(connection) as small:
        safety_checks.safety_check_approve(check=small_check, approver=approver)
    for n in range(30):
        citizen_in("ML-7", name=f"Large{n}", household=n % 3)
    large_check = submitted()

    # The locked check, the role, the responses in one INSERT ... SELECT, the alert, the
    # check's start, the audit trail (its post codes and row), and their savepoints: no query
    # per citizen.
    assert len(small.captured_queries) == 11, [q["sql"][:60] for q in small.captured_queries]
    with django_assert_num_queries(11):
        safety_checks.safety_check_approve(check=large_check, approver=approver)
    assert SafetyResponse.objects.filter(safety_check=large_check).count() == 33


def test_a_check_answers_only_an_alert_about_its_country(bamako_officer):
    beirut_alert, bamako_alert = AlertFactory(country_id="LB"), AlertFactory(country_id="ML")

    with pytest.raises(ValidationFailed) as refused:
        start_check(bamako_officer, alert_id=beirut_alert.id)
    check = start_check(bamako_officer, alert_id=bamako_alert.id)

    assert refused.value.field == "alert"
    assert check.alert_id == bamako_alert.id
