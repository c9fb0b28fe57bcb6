"""Issue acceptance: a check for ML-7 with 1,000 citizens, on PostgreSQL."""

import datetime
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, SafetyResponse
from cases.selectors import check_board
from cases.services import safety_checks
from registrations.models import Citizen, HouseholdMember, Presence
from tests.cases.conftest import start_check

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("geography")]

Status = SafetyResponse.Status


def seed_gao(count: int) -> list[Citizen]:
    """`count` citizens resident in ML-7, every third with two people in their household."""
    now = timezone.now()
    citizens = Citizen.objects.bulk_create(
        [
            Citizen(
                given_name="Awa",
                family_name=f"Gao{n}",
                language="fr" if n % 2 else "en",
                email=f"gao{n}@example.org",
                phone=f"+22370{n:06d}",
                notify_by_email=True,
                notify_by_sms=True,
                email_verified_at=now,
                phone_verified_at=now,
                consent_version="1",
                consented_at=now,
                confirmed_at=now,
            )
            for n in range(count)
        ]
    )
    Presence.objects.bulk_create(
        [
            Presence(
                citizen=citizen,
                kind=Presence.Kind.RESIDENCE,
                country_id="ML",
                region_id="ML-7",
                start_date=datetime.date(2026, 1, 1),
            )
            for citizen in citizens
        ]
    )
    HouseholdMember.objects.bulk_create(
        [
            HouseholdMember(citizen=citizen, name=f"Member {k}", relation="child")
            for citizen in citizens[::3]
            for k in range(2)
        ]
    )
    return citizens


def help_answer(kind: str = "evacuation") -> safety_checks.Answer:
    return safety_checks.Answer(status=Status.NEEDS_HELP, via="sms", help_kind=kind)


SAFE = safety_checks.Answer(status=Status.SAFE, via="web")


def test_a_check_of_a_thousand_matches_its_answers_with_one_open_case_per_help(
    bamako_officer, django_assert_num_queries
):
    citizens = seed_gao(1000)
    # No fan-out here: sending is the alerts' tests' business; the question's rows are enough.
    check = start_check(bamako_officer)
    safe, helped, changed_mind, silent = (
        citizens[:600],
        citizens[600:740],
        citizens[740:760],
        citizens[760:],
    )
    for citizen in safe:
        safety_checks.response_record(check=check, citizen_id=citizen.id, answer=SAFE)
    for citizen in helped:
        safety_checks.response_record(check=check, citizen_id=citizen.id, answer=help_answer())
    # Ten of them write again: still one case each.
    for citizen in helped[:10]:
        safety_checks.response_record(
            check=check, citizen_id=citizen.id, answer=help_answer("medical")
        )
    # Twenty asked for help, then said they were safe: the latest answer counts.
    for citizen in changed_mind:
        safety_checks.response_record(check=check, citizen_id=citizen.id, answer=help_answer())
        safety_checks.response_record(check=check, citizen_id=citizen.id, answer=SAFE)
    safety_checks.safety_check_close(check=check)

    with django_assert_num_queries(1):
        board = check_board(check_id=check.id)

    def people(group: list[Citizen]) -> int:
        return sum(3 if citizens.index(c) % 3 == 0 else 1 for c in group)

    totals = {status: (t.citizens, t.people) for status, t in board.totals.items()}
    assert totals == {
        "pending": (0, 0),
        "safe": (620, people(safe) + people(changed_mind)),
        "needs_help": (140, people(helped)),
        "no_response": (240, people(silent)),
    }
    recorded = dict(
        SafetyResponse.objects.filter(safety_check=check)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    assert recorded == {"safe": 620, "needs_help": 140, "no_response": 240}
    needing = set(
        SafetyResponse.objects.filter(safety_check=check, status=Status.NEEDS_HELP).values_list(
            "citizen_id", flat=True
        )
    )
    open_help_cases = Case.objects.filter(
        safety_check=check, source=Case.Source.NEEDS_HELP, status__in=Case.OPEN_STATUSES
    )
    by_citizen = Counter(open_help_cases.values_list("citizen_id", flat=True))
    assert all(by_citizen[citizen_id] == 1 for citizen_id in needing)
    # Those who said they were safe after asking for help keep their case, for staff to
    # close, with their latest answer on its timeline.
    assert set(by_citizen) - needing == {citizen.id for citizen in changed_mind}
    assert set(open_help_cases.values_list("post__code", flat=True)) == {"post-ml"}


def test_board_detail_through_the_api_costs_the_same_whatever_the_size(
    api_client, bamako_officer, django_assert_num_queries
):
    citizens = seed_gao(300)
    check = start_check(bamako_officer)
    for citizen in citizens[:100]:
        safety_checks.response_record(check=check, citizen_id=citizen.id, answer=SAFE)
    api_client.force_authenticate(bamako_officer)

    with CaptureQueriesContext(connection) as small:
        api_client.get(f"/api/v1/safety-checks/{check.id}/")
    for citizen in citizens[100:200]:
        safety_checks.response_record(check=check, citizen_id=citizen.id, answer=help_answer())
    with CaptureQueriesContext(connection) as large:
        detail = api_client.get(f"/api/v1/safety-checks/{check.id}/").json()

    assert len(small.captured_queries) == len(large.captured_queries)
    # The caller's countries, the check, the grouped counts, then the audit trail's post
    # codes and row.
    with django_assert_num_queries(5):
        api_client.get(f"/api/v1/safety-checks/{check.id}/")
    assert detail["counts"]["safe"]["citizens"] == 100
    assert detail["counts"]["needs_help"]["citizens"] == 100
    assert detail["counts"]["pending"]["citizens"] == 100
