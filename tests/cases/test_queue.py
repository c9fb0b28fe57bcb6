"""The case queue's time to first contact and bulk assignment, and the case page's head: what
the person asked for and the number to call, the summary in the reader's language."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership
from cases.models import Case, CaseEvent, SafetyResponse
from cases.selectors import case_contact_sla
from cases.services import cases as case_services
from cases.services import safety_checks
from core.exceptions import NotFound, ValidationFailed
from tests.accounts.factories import login_verified, staff_at
from tests.cases.conftest import citizen_in, start_check

pytestmark = pytest.mark.usefixtures("geography")

OPENED = datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC)


def walk_in(officer, summary="Walk-in", **fields):
    return case_services.case_open(
        opened_by=officer, kind="welfare", country_code="ML", summary=summary, **fields
    )


def colleague(username="bamako-colleague"):
    return staff_at("ML", Membership.Role.OFFICER, username=username)


# --- Time to first contact ---------------------------------------------------------------------


def test_a_new_case_is_due_then_overdue_by_its_prioritys_time(bamako_officer, settings):
    settings.CASE_CONTACT_SLA_MINUTES = {4: 60, 3: 240, 2: 1440, 1: 4320}
    with time_machine.travel(OPENED):
        urgent = walk_in(bamako_officer, priority=Case.Priority.URGENT)
        normal = walk_in(bamako_officer)

    later = OPENED + datetime.timedelta(minutes=90)

    assert case_contact_sla(case=urgent, now=later).state == "overdue"
    assert case_contact_sla(case=urgent, now=later).seconds == 30 * 60
    assert case_contact_sla(case=normal, now=later).state == "due"
    assert case_contact_sla(case=normal, now=later).seconds == (1440 - 90) * 60


def test_a_contacted_case_is_past_its_timer(bamako_officer):
    with time_machine.travel(OPENED):
        case = walk_in(bamako_officer, priority=Case.Priority.URGENT)
    case = case_services.case_status_change(case=case, status="contacted", actor=bamako_officer)

    assert case_contact_sla(case=case, now=OPENED + datetime.timedelta(days=3)).state == (
        "contacted"
    )


def test_queue_says_overdue_in_words_and_colour_in_english_and_french(client, bamako_officer):
    with time_machine.travel(OPENED):
        walk_in(bamako_officer, priority=Case.Priority.URGENT)
    login_verified(client, bamako_officer)

    with time_machine.travel(OPENED + datetime.timedelta(hours=2, minutes=5)):
        english = client.get(reverse("cases:case_queue")).content.decode()
        french = client.get(reverse("cases:case_queue"), HTTP_ACCEPT_LANGUAGE="fr")

    assert '<td data-sla="overdue"><span class="badge badge-danger">Overdue by 1 h 5 min' in (
        english
    )
    assert "En retard de 1 h 5 min" in french.content.decode()


# The session, the staff member, their second factor, their posts' zone; the posts for the
# filter, the cases with their post, country, region, citizen, assignee and check in one
# join, the colleagues to assign to; the filters kept in the session (savepoint, update,
# release).
QUEUE_QUERIES = 10


def test_queue_queries_do_not_grow_with_cases_or_regions(client, bamako_officer):
    walk_in(bamako_officer, region_code="ML-7")
    login_verified(client, bamako_officer)
    client.get(reverse("cases:case_queue"), {"sort": "age"})

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("cases:case_queue"), {"sort": "age"})
    for region in ("ML-1", "ML-2", "ML-BKO", "ML-7"):
        citizen = citizen_in(region)
        walk_in(bamako_officer, region_code=region, citizen_id=citizen.id)
        walk_in(colleague(f"colleague-{region}"), region_code=region)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("cases:case_queue"), {"sort": "age"})

    assert len(page.context["rows"]) == 9
    assert len(few) == len(many) == QUEUE_QUERIES


# --- Bulk assignment ---------------------------------------------------------------------------


def test_bulk_assign_to_a_colleague_records_one_event_per_case_however_often(bamako_officer):
    other = colleague()
    cases = [walk_in(bamako_officer, summary=text) for text in ("one", "two")]
    case_services.case_assign(case=cases[0], assignee=other, actor=bamako_officer)

    first = case_services.cases_assign(
        case_ids=[case.id for case in cases], assignee=other, actor=bamako_officer
    )
    again = case_services.cases_assign(
        case_ids=[case.id for case in cases], assignee=other, actor=bamako_officer
    )

    assert (first.assigned, first.unchanged) == (1, 1)
    assert (again.assigned, again.unchanged) == (0, 2)
    for case in cases:
        case.refresh_from_db()
        assert case.assignee == other
        assert case.events.filter(kind=CaseEvent.Kind.ASSIGNED).count() == 1


def test_bulk_assign_with_a_case_of_another_post_assigns_none(bamako_officer, beirut_officer):
    ours = walk_in(bamako_officer)
    theirs = case_services.case_open(
        opened_by=beirut_officer, kind="other", country_code="LB", summary="lb"
    )

    with pytest.raises(NotFound):
        case_services.cases_assign(
            case_ids=[ours.id, theirs.id], assignee=bamako_officer, actor=bamako_officer
        )

    ours.refresh_from_db()
    assert ours.assignee is None
    assert ours.events.count() == 1


def test_bulk_assign_to_someone_of_another_post_assigns_none(bamako_officer, beirut_officer):
    cases = [walk_in(bamako_officer, summary=text) for text in ("one", "two")]

    with pytest.raises(ValidationFailed) as refused:
        case_services.cases_assign(
            case_ids=[case.id for case in cases], assignee=beirut_officer, actor=bamako_officer
        )

    assert refused.value.field == "assignee"
    assert not Case.objects.filter(assignee__isnull=False).exists()


def test_bulk_assign_of_nothing_or_a_malformed_id_is_refused(bamako_officer):
    with pytest.raises(ValidationFailed):
        case_services.cases_assign(case_ids=[], assignee=bamako_officer, actor=bamako_officer)
    with pytest.raises(NotFound):
        case_services.cases_assign(
            case_ids=["not-a-case"], assignee=bamako_officer, actor=bamako_officer
        )


def test_queue_assigns_the_selection_to_a_colleague_and_says_so(client, bamako_officer):
    other = colleague()
    cases = [walk_in(bamako_officer, summary=text) for text in ("one", "two")]
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:case_queue")).content.decode()
    done = client.post(
        reverse("cases:case_queue"),
        {"case": [str(case.id) for case in cases], "action": "assign", "assignee": other.id},
        follow=True,
    )
    again = client.post(
        reverse("cases:case_queue"),
        {"case": [str(case.id) for case in cases], "action": "assign", "assignee": other.id},
        follow=True,
    )

    assert f'<option value="{other.id}">bamako-colleague</option>' in page
    assert "2 cases assigned to bamako-colleague." in done.content.decode()
    assert "0 cases assigned to bamako-colleague. 2 were already with them." in (
        again.content.decode()
    )
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.ASSIGNED).count() == 2


def test_queue_refuses_an_assignee_from_elsewhere_with_a_message(
    client, bamako_officer, beirut_officer
):
    case = walk_in(bamako_officer)
    login_verified(client, bamako_officer)

    refused = client.post(
        reverse("cases:case_queue"),
        {"case": [str(case.id)], "action": "assign", "assignee": beirut_officer.id},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "Choisissez à qui attribuer les dossiers sélectionnés." in refused.content.decode()
    case.refresh_from_db()
    assert case.assignee is None


# --- The case page -----------------------------------------------------------------------------


@pytest.fixture
def help_case(bamako_officer):
    awa = citizen_in("ML-7", name="Awa", household=2)
    check = start_check(bamako_officer)
    safety_checks.response_record(
        check=check,
        citizen_id=awa.id,
        answer=safety_checks.Answer(
            status=SafetyResponse.Status.NEEDS_HELP,
            via=SafetyResponse.Via.WEB,
            help_kind=SafetyResponse.HelpKind.MEDICAL,
            people_with_them=4,
            location="Hotel Atlantide",
            details="My leg is broken",
        ),
    )
    return Case.objects.get(citizen=awa), awa, check


def test_case_page_opens_on_what_was_asked_and_the_number_to_call(
    client, bamako_officer, help_case
):
    case, awa, check = help_case
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:case_detail", args=[case.id])).content.decode()
    head = page.split('<section class="case-head"')[1].split("</section>")[0]

    assert f"Medical · Asked for help in safety check {check.code}" in head
    assert "Gao, Mali" in head
    assert "Hotel Atlantide" in head
    assert "4 people" in head
    assert "My leg is broken" in head
    assert f'href="tel:{awa.phone}"' in head


def test_case_page_and_summary_in_french(client, bamako_officer, help_case):
    case, _awa, check = help_case
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:case_detail", args=[case.id]), HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()

    assert f"A demandé de l&#x27;aide lors de la vérification {check.code}" in html
    assert "4 personnes" in html
    assert "Appeler le" in html


def test_the_summary_of_a_case_the_system_opened_is_stored_without_words(help_case):
    case, _awa, _check = help_case

    assert Case.objects.filter(id=case.id).values_list("summary", flat=True).get() == ""


def test_every_action_on_the_case_page_confirms_itself(client, bamako_officer, help_case):
    case, _awa, _check = help_case
    login_verified(client, bamako_officer)
    url = reverse("cases:case_detail", args=[case.id])

    said = [
        client.post(url, body, follow=True).content.decode()
        for body in (
            {"action": "assign_me"},
            {"action": "note", "note-kind": "note", "note-text": "Ambulance called"},
            {"action": "status", "status-status": "contacted"},
            {"action": "message", "message-subject": "", "message-text": "We are coming."},
        )
    ]

    for page, message in zip(
        said,
        (
            "The case is assigned to you.",
            "Added to the timeline.",
            "The status is changed.",
            "The message is on its way.",
        ),
        strict=True,
    ):
        assert message in page
    assert "New → Contacted" in said[-1]
