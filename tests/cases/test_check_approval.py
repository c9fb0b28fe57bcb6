"""A safety check follows the rule of every message to a region: a draft whose reach is
previewed, started only when a second person approves it, or by its author alone when their
post opted into urgent mode (audited, shown on the check)."""

import datetime
import threading
from collections import Counter

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Membership, Post
from cases.models import SafetyCheck, SafetyResponse
from cases.selectors import check_reach
from cases.services import safety_checks
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from notifications.models import Delivery
from tests.accounts.factories import PostFactory
from tests.cases.conftest import (
    check_fields,
    citizen_in,
    draft_check,
    second_person,
    start_check,
)

pytestmark = pytest.mark.usefixtures("geography")


def submitted_check(officer, **fields) -> SafetyCheck:
    check = draft_check(officer, **fields)
    return safety_checks.safety_check_submit(check=check, submitted_by=officer)


def urgent_mode(on: bool = True) -> None:
    Post.objects.filter(code="post-ml").update(urgent_safety_checks=on)


def test_the_preview_counts_the_rows_the_question_fan_out_writes(
    bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7", language="fr", household=2)
    citizen_in("ML-7", sms=False)
    citizen_in("ML-7", email_verified=False, language="fr")
    citizen_in(None, country_code="ML")  # somewhere in Mali: asked too
    citizen_in("ML-1")
    citizen_in("LB-BA")
    check = submitted_check(bamako_officer, region_codes=["ML-7"])

    reach = check_reach(check=check)
    with django_capture_on_commit_callbacks(execute=True):
        safety_checks.safety_check_approve(check=check, approver=second_person())
    check.refresh_from_db()
    rows = list(
        Delivery.objects.filter(alert=check.question_alert).values_list(
            "citizen_id", "region_code", "channel", "language"
        )
    )

    assert reach.messages == len(rows) == 6
    assert reach.people == len({citizen for citizen, *_rest in rows}) == 4
    assert reach.by_channel == dict(Counter(channel for _c, _r, channel, _l in rows))
    for region, counts in reach.by_region.items():
        assert counts["people"] == len({c for c, r, _ch, _l in rows if r == region})
        for channel in ("email", "sms"):
            assert counts.get(channel, 0) == sum(
                1 for _c, r, ch, _l in rows if (r, ch) == (region, channel)
            )
    for language, counts in reach.by_language.items():
        assert counts["people"] == len({c for c, _r, _ch, lang in rows if lang == language})
    assert set(reach.by_region) == {"ML-7", ""}


def test_nobody_is_asked_before_a_second_person_approves(
    bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")

    with django_capture_on_commit_callbacks(execute=True):
        check = submitted_check(bamako_officer)

    assert check.status == SafetyCheck.Status.AWAITING_APPROVAL
    assert check.question_alert is None
    assert not SafetyResponse.objects.exists()
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_the_author_cannot_approve_their_own_check(bamako_officer):
    citizen_in("ML-7")
    check = submitted_check(bamako_officer)

    with pytest.raises(PermissionDenied) as refused:
        safety_checks.safety_check_approve(check=check, approver=bamako_officer)

    check.refresh_from_db()
    assert refused.value.code == "four_eyes"
    assert refused.value.field == "approved_by"
    assert check.status == SafetyCheck.Status.AWAITING_APPROVAL
    assert not SafetyResponse.objects.exists()


@pytest.mark.parametrize("role", [Membership.Role.OFFICER, Membership.Role.ADMIN])
def test_another_officer_or_post_administrator_approves_and_starts_it(
    bamako_officer, role, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    approver = second_person("ML", role=role)
    check = submitted_check(bamako_officer)

    with django_capture_on_commit_callbacks(execute=True):
        started = safety_checks.safety_check_approve(check=check, approver=approver)

    assert (started.status, started.approved_by, started.started_alone) == (
        SafetyCheck.Status.OPEN,
        approver,
        False,
    )
    assert started.approval_note == f"Approved by {approver.username}"
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(object_id=str(check.id), detail__step="approve").exists()


def test_an_editor_or_a_foreign_approver_cannot_approve(bamako_officer, beirut_officer):
    check = submitted_check(bamako_officer)
    editor = second_person("ML", role=Membership.Role.EDITOR)
    beirut_approver = second_person("LB")

    for user in (editor, beirut_approver):
        with pytest.raises(PermissionDenied):
            safety_checks.safety_check_approve(check=check, approver=user)

    check.refresh_from_db()
    assert check.status == SafetyCheck.Status.AWAITING_APPROVAL


def test_only_a_submitted_check_is_approved(bamako_officer):
    draft = draft_check(bamako_officer)
    started = start_check(bamako_officer)

    for check in (draft, started):
        with pytest.raises(Conflict) as refused:
            safety_checks.safety_check_approve(check=check, approver=second_person())
        assert refused.value.field == "status"
    assert SafetyResponse.objects.filter(safety_check=draft).count() == 0


def test_a_check_whose_deadline_passed_while_waiting_is_not_started(bamako_officer):
    check = submitted_check(bamako_officer)
    approver = second_person()

    with (
        time_machine.travel(check.deadline + datetime.timedelta(minutes=1), tick=False),
        pytest.raises(Conflict) as refused,
    ):
        safety_checks.safety_check_approve(check=check, approver=approver)

    check.refresh_from_db()
    assert refused.value.field == "deadline"
    assert (check.status, check.approved_by) == (SafetyCheck.Status.AWAITING_APPROVAL, None)


def test_rejected_back_to_draft_with_a_reason_then_changed_and_submitted_again(
    bamako_officer,
):
    check = submitted_check(bamako_officer)
    approver = second_person()

    with pytest.raises(ValidationFailed) as no_reason:
        safety_checks.safety_check_reject(check=check, rejected_by=approver, reason="  ")
    with pytest.raises(Conflict):
        safety_checks.safety_check_update(
            check=check, editor=bamako_officer, fields=check_fields(region_codes=["ML-1"])
        )
    rejected = safety_checks.safety_check_reject(
        check=check, rejected_by=approver, reason="Add Mopti."
    )
    changed = safety_checks.safety_check_update(
        check=check, editor=bamako_officer, fields=check_fields(region_codes=["ML-7", "ML-5"])
    )
    again = safety_checks.safety_check_submit(check=check, submitted_by=bamako_officer)

    assert no_reason.value.field == "reason"
    assert (rejected.status, rejected.rejection_reason) == ("draft", "Add Mopti.")
    assert changed.region_codes == ["ML-5", "ML-7"]
    assert (again.status, again.rejection_reason) == ("awaiting_approval", "")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"region_codes": ["LB-BA"]}, "region_codes"),
        ({"region_codes": []}, "region_codes"),
        ({"question_en": "  "}, "question_en"),
        ({"send_email": False, "send_sms": False}, "send_email"),
        ({"deadline": timezone.now() - datetime.timedelta(minutes=1)}, "deadline"),
        ({"reminder_minutes": 0}, "reminder_minutes"),
    ],
)
def test_a_bad_draft_is_refused_naming_the_field_and_nothing_is_saved(
    bamako_officer, fields, field
):
    with pytest.raises(ValidationFailed) as refused:
        draft_check(bamako_officer, **fields)

    assert refused.value.field == field
    assert not SafetyCheck.objects.exists()


def test_the_database_refuses_a_started_check_without_a_second_person(bamako_officer):
    check = draft_check(bamako_officer)
    now = timezone.now()

    for approver in (None, bamako_officer):
        with pytest.raises(IntegrityError), transaction.atomic():
            SafetyCheck.objects.filter(id=check.id).update(
                status=SafetyCheck.Status.OPEN, started_at=now, approved_by=approver
            )
    SafetyCheck.objects.filter(id=check.id).update(
        status=SafetyCheck.Status.OPEN, started_at=now, started_alone=True
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyCheck.objects.filter(id=check.id).update(started_at=None)


def test_urgent_mode_lets_the_author_start_alone_audited_and_shown(
    bamako_officer, api_client, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    check = draft_check(bamako_officer)
    with pytest.raises(PermissionDenied) as refused:
        safety_checks.safety_check_start_alone(check=check, started_by=bamako_officer)
    urgent_mode()

    with django_capture_on_commit_callbacks(execute=True):
        started = safety_checks.safety_check_start_alone(check=check, started_by=bamako_officer)
    api_client.force_authenticate(bamako_officer)
    english = api_client.get(f"/api/v1/safety-checks/{check.id}/").json()
    french = api_client.get(f"/api/v1/safety-checks/{check.id}/", HTTP_ACCEPT_LANGUAGE="fr")

    assert refused.value.field == "started_alone"
    assert (started.status, started.started_alone, started.approved_by) == ("open", True, None)
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(object_id=str(check.id), detail__step="start_alone")
    assert (event.user, event.post_code, event.detail["urgent_mode_post"]) == (
        bamako_officer,
        "post-ml",
        "post-ml",
    )
    assert english["started_alone"] is True
    assert english["approval"] == "Started without a second person (urgent mode)"
    assert french.json()["approval"] == "Lancée sans seconde personne (mode urgence)"


def test_urgent_mode_is_for_the_author_only(bamako_officer):
    urgent_mode()
    other_officer = second_person("ML", role=Membership.Role.OFFICER)
    check = submitted_check(bamako_officer)

    with pytest.raises(PermissionDenied) as refused:
        safety_checks.safety_check_start_alone(check=check, started_by=other_officer)

    assert refused.value.code == "not_author"
    assert SafetyCheck.objects.get(id=check.id).status == "awaiting_approval"


def test_urgent_mode_of_another_post_covering_the_country_does_not_count(bamako_officer):
    PostFactory(code="consulate-ml", countries=["ML"], urgent_safety_checks=True)
    check = draft_check(bamako_officer)

    with pytest.raises(PermissionDenied):
        safety_checks.safety_check_start_alone(check=check, started_by=bamako_officer)

    assert SafetyCheck.objects.get(id=check.id).status == "draft"


def test_reminders_count_from_the_start_not_from_the_draft(bamako_officer):
    citizen_in("ML-7")
    written = timezone.now()
    check = submitted_check(
        bamako_officer, reminder_minutes=60, deadline=written + datetime.timedelta(hours=8)
    )
    approved = written + datetime.timedelta(hours=2)
    with time_machine.travel(approved, tick=False):
        safety_checks.safety_check_approve(check=check, approver=second_person())

    early = safety_checks.safety_checks_tick(now=approved + datetime.timedelta(minutes=30))
    due = safety_checks.safety_checks_tick(now=approved + datetime.timedelta(minutes=61))

    assert (early.reminded, due.reminded) == (0, 1)


def test_the_api_answers_bad_input_in_the_users_language_naming_the_field(
    api_client, bamako_officer
):
    api_client.force_authenticate(bamako_officer)
    deadline = (timezone.now() + datetime.timedelta(hours=2)).isoformat()

    foreign_region = api_client.post(
        "/api/v1/safety-checks/",
        {"country": "ML", "region_codes": ["LB-BA"], "question_en": "Safe?", "deadline": deadline},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    check = draft_check(bamako_officer)
    url = f"/api/v1/safety-checks/{check.id}/"
    own = api_client.post(f"{url}approve/", HTTP_ACCEPT_LANGUAGE="fr")
    api_client.force_authenticate(second_person("ML", role=Membership.Role.OFFICER))
    not_submitted = api_client.post(f"{url}approve/", HTTP_ACCEPT_LANGUAGE="fr")
    api_client.force_authenticate(bamako_officer)
    api_client.post(f"{url}submit/")
    no_reason = api_client.post(f"{url}reject/", {"reason": ""}, format="json")

    assert foreign_region.status_code == 400
    assert foreign_region.data["errors"]["region_codes"] == ["Choisissez des régions du pays."]
    assert not_submitted.status_code == 409
    assert not_submitted.data["errors"]["status"] == [
        "Seule une vérification de sécurité soumise peut être approuvée."
    ]
    assert own.status_code == 403
    assert "approuver" in own.data["errors"]["approved_by"][0]
    assert no_reason.status_code == 400
    assert "reason" in no_reason.data["errors"]
    assert SafetyCheck.objects.count() == 1


def test_an_approver_sees_the_check_awaiting_approval_and_its_reach_only(
    api_client, bamako_officer
):
    citizen_in("ML-7")
    approver = second_person()
    check = submitted_check(bamako_officer)
    draft = draft_check(bamako_officer)
    api_client.force_authenticate(approver)

    preview = api_client.get(f"/api/v1/safety-checks/{check.id}/preview/")
    draft_preview = api_client.get(f"/api/v1/safety-checks/{draft.id}/preview/")
    responses = api_client.get(f"/api/v1/safety-checks/{check.id}/responses/")

    assert preview.status_code == 200
    assert preview.json()["people"] == 1
    assert draft_preview.status_code == 404
    assert responses.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_start_the_check_once(bamako_officer):
    citizen_in("ML-7")
    check = submitted_check(bamako_officer)
    approvers = [second_person(), second_person("ML", role=Membership.Role.OFFICER)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(approver) -> None:
        try:
            barrier.wait()
            safety_checks.safety_check_approve(check=check, approver=approver)
            outcomes.append("started")
        except Conflict:
            outcomes.append("conflict")
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "started"]
    assert SafetyResponse.objects.filter(safety_check=check).count() == 1
    check.refresh_from_db()
    assert check.status == SafetyCheck.Status.OPEN
    assert AuditEvent.objects.filter(object_id=str(check.id), detail__step="approve").count() == 1
