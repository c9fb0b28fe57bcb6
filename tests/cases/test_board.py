"""The safety-check board: answers by region (named, the people with no region in words), the
share answered over time, the question's delivery, who has not answered with a number to
call, and its live part; a fixed number of queries whatever the people and regions."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.board import check_progress
from cases.models import SafetyResponse
from cases.services import safety_checks
from core.models import AuditEvent
from tests.accounts.factories import login_verified
from tests.cases.conftest import citizen_in, draft_check, start_check
from tests.notifications.conftest import make_citizen

pytestmark = pytest.mark.usefixtures("geography")


def answer(check, citizen, status=SafetyResponse.Status.SAFE):
    return safety_checks.response_record(
        check=check,
        citizen_id=citizen.id,
        answer=safety_checks.Answer(status=status, via=SafetyResponse.Via.WEB),
    )


def board_url(check):
    return reverse("cases:check_board", args=[check.id])


def progress_url(check):
    return reverse("cases:check_progress", args=[check.id])


def test_board_names_regions_and_says_who_gave_no_region(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", name="Awa")
    citizen_in("ML-BKO", name="Moussa")
    make_citizen(None, country_code="ML", name="Fanta")
    check = start_check(
        bamako_officer,
        django_capture_on_commit_callbacks,
        region_codes=["ML-7", "ML-BKO", "ML-8"],
    )
    answer(check, awa)
    login_verified(client, bamako_officer)

    page = client.get(board_url(check)).content.decode()

    assert '<tr data-region="ML-7"><th scope="row"><a href="?region=ML-7">Gao</a></th>' in page
    assert ">Bamako</a></th>" in page
    # Kidal was asked about too, with nobody there.
    assert (
        '<tr data-region="ML-8"><th scope="row"><a href="?region=ML-8">Kidal</a></th>'
        "<td>0% (0 / 0)</td>" in page
    )
    assert "Somewhere in the country (no region given)" in page
    assert "33% answered (1 of 3)" in page
    assert ">ML-7<" not in page
    assert "<td>—</td>" not in page


def test_board_in_french(client, bamako_officer, django_capture_on_commit_callbacks):
    awa = citizen_in("ML-7", name="Awa")
    citizen_in("ML-7", name="Moussa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    answer(check, awa)
    login_verified(client, bamako_officer)

    page = client.get(board_url(check), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "50 % ont répondu (1 sur 2)" in page
    assert "Comment la question a été remise" in page
    assert check.question_fr in page


def test_share_answered_over_time_rises_with_each_answer(bamako_officer):
    people = [citizen_in("ML-7", name=name) for name in ("Awa", "Moussa", "Fanta", "Ali")]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        check = start_check(bamako_officer)
    for minutes, citizen in ((5, people[0]), (5, people[1]), (20, people[2])):
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            answer(check, citizen)

    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        progress = check_progress(check=check)

    assert [(point.done, point.percent) for point in progress.chart.points] == [(2, 50), (3, 75)]
    assert progress.chart.percent == progress.percent == 75
    # A step line from 0 % at the start to 75 % now, left to right.
    xs = [float(pair.split(",")[0]) for pair in progress.chart.line.split()]
    assert xs == sorted(xs)
    assert xs[0] == 0
    assert xs[-1] == progress.chart.width
    assert progress.chart.line.endswith(f"{progress.chart.width},25.0")


def test_board_shows_the_questions_delivery_and_who_nobody_could_write_to(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7", name="Awa")
    make_citizen("ML-7", name="Moussa", sms=False, email_verified=False)
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    login_verified(client, bamako_officer)

    progress = check_progress(check=check)
    page = client.get(progress_url(check)).content.decode()

    assert {(bar.channel, bar.total) for bar in progress.delivery} == {("email", 1), ("sms", 1)}
    assert progress.no_channel == 1
    assert "1 person asked has no verified email address or phone number" in page
    assert 'data-channel="sms"' in page


def test_who_has_not_answered_is_listed_with_a_number_to_call(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    awa = citizen_in("ML-7", name="Awa")
    moussa = citizen_in("ML-7", name="Moussa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    answer(check, awa)
    login_verified(client, bamako_officer)

    page = client.get(board_url(check))
    html = page.content.decode()

    export = client.get(
        reverse("cases:check_export", args=[check.id]), {"status": "pending"}
    ).content.decode()

    assert page.context["status"] == "pending"
    assert f'<a class="call" href="tel:{moussa.phone}">{moussa.phone}</a>' in html
    assert awa.phone not in html
    assert "no-store" in page["Cache-Control"]
    assert moussa.phone in export
    assert awa.phone not in export
    assert set(
        AuditEvent.objects.filter(
            object_id=str(check.id), action__in=["view", "export"]
        ).values_list("action", "detail__list")
    ) == {("view", "pending"), ("export", "pending")}


def test_an_open_checks_board_polls_its_fragment_a_closed_one_does_not(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    login_verified(client, bamako_officer)

    open_page = client.get(board_url(check)).content.decode()
    fragment = client.get(progress_url(check)).content.decode()
    check.status = check.Status.CLOSED
    check.save(update_fields=["status"])
    closed_page = client.get(board_url(check)).content.decode()

    assert f'hx-get="{progress_url(check)}"' in open_page
    assert fragment.startswith('<section id="check-progress"')
    assert "<html" not in fragment
    assert "hx-get" not in closed_page


def test_a_beirut_officer_gets_404_on_the_board_and_its_fragment(
    client, bamako_officer, beirut_officer
):
    citizen_in("ML-7")
    check = start_check(bamako_officer)
    login_verified(client, beirut_officer)

    assert client.get(board_url(check)).status_code == 404
    assert client.get(progress_url(check)).status_code == 404


def test_the_fragment_of_a_check_not_started_is_not_found(client, bamako_officer):
    check = draft_check(bamako_officer)
    login_verified(client, bamako_officer)

    assert client.get(progress_url(check)).status_code == 404


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The session, the staff member, their second factor, their posts' zone and countries; the
# check (the board looks it up for approval first); the board's grouped counts, the regions'
# names, the answers over time, the messages' counts, the people nobody could write to; the
# board adds the people listed and its line on the audit trail (the reader's posts, the row).
BOARD_QUERIES = 16
PROGRESS_QUERIES = 11


def test_board_and_fragment_queries_do_not_grow_with_people_or_regions(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    small = start_check(bamako_officer, django_capture_on_commit_callbacks)
    regions = ["ML-7", "ML-BKO", "ML-1", "ML-2"]
    people = [citizen_in(code, household=1) for code in regions for _ in range(3)]
    people.append(make_citizen(None, country_code="ML"))
    big = start_check(bamako_officer, django_capture_on_commit_callbacks, region_codes=regions)
    for citizen in people[::2]:
        answer(big, citizen)
    login_verified(client, bamako_officer)
    _queries(client, board_url(small))  # the session's first reads

    small_counts = (_queries(client, board_url(small)), _queries(client, progress_url(small)))
    big_counts = (_queries(client, board_url(big)), _queries(client, progress_url(big)))

    assert small_counts == big_counts == (BOARD_QUERIES, PROGRESS_QUERIES)
