import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Post
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.services import cases as case_services
from cases.services import safety_checks
from core.models import AuditEvent
from tests.accounts.factories import MembershipFactory, login_verified
from tests.cases.conftest import citizen_in, draft_check, second_person, start_check

pytestmark = pytest.mark.usefixtures("geography")


def link_token(email) -> str:
    line = next(line for line in email.body.splitlines() if "/safe/" in line)
    return line.split("/safety/")[1].split("/")[0]


@pytest.fixture
def asked(bamako_officer, django_capture_on_commit_callbacks):
    awa = citizen_in("ML-7", name="Awa")
    check = start_check(bamako_officer, django_capture_on_commit_callbacks)
    return check, awa, link_token(mail.outbox[0])


def test_safe_link_shows_a_confirmation_and_records_only_on_post(client, asked):
    _check, awa, token = asked

    page = client.get(reverse("cases:respond_safe", args=[token]))
    assert page.status_code == 200
    assert SafetyResponse.objects.get(citizen=awa).status == "pending"
    assert "no-store" in page["Cache-Control"]

    done = client.post(reverse("cases:respond_safe", args=[token]))

    assert done.status_code == 200
    response = SafetyResponse.objects.get(citizen=awa)
    assert (response.status, response.via) == ("safe", "web")


def test_help_link_form_records_details_and_opens_a_case(client, asked):
    _check, awa, token = asked

    invalid = client.post(reverse("cases:respond_help", args=[token]), {"help_kind": "x"})
    assert invalid.status_code == 200
    assert Case.objects.count() == 0

    client.post(
        reverse("cases:respond_help", args=[token]),
        {
            "help_kind": "medical",
            "people_with_them": "2",
            "location": "Gao hospital",
            "details": "My son is hurt",
        },
    )

    response = SafetyResponse.objects.get(citizen=awa)
    assert (response.status, response.help_kind, response.people_with_them) == (
        "needs_help",
        "medical",
        2,
    )
    case = Case.objects.get()
    assert (case.kind, case.post.code) == ("medical", "post-ml")
    assert "My son is hurt" in case.events.get().text


def test_a_tampered_link_is_not_found(client, asked):
    _check, _awa, token = asked

    assert client.get(reverse("cases:respond_safe", args=[token[:-2] + "xx"])).status_code == 404
    assert client.post(reverse("cases:respond_help", args=["nonsense"])).status_code == 404


def test_staff_pages_need_a_verified_staff_member(client, bamako_officer):
    client.force_login(bamako_officer)

    response = client.get(reverse("cases:case_queue"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_board_queue_and_case_page_for_the_post(client, bamako_officer, asked):
    check, awa, _token = asked
    safety_checks.response_record(
        check=check,
        citizen_id=awa.id,
        answer=safety_checks.Answer(status="needs_help", via="sms", help_kind="evacuation"),
    )
    case = Case.objects.get()
    login_verified(client, bamako_officer)

    board = client.get(reverse("cases:check_board", args=[check.id]))
    by_region = client.get(
        reverse("cases:check_board", args=[check.id]), {"status": "needs_help", "region": "ML-7"}
    )
    queue = client.get(reverse("cases:case_queue"), {"status": "new"})
    client.post(reverse("cases:case_detail", args=[case.id]), {"action": "assign_me"})
    client.post(
        reverse("cases:case_detail", args=[case.id]),
        {"action": "note", "note-kind": "call", "note-text": "Reached her by phone"},
    )
    client.post(
        reverse("cases:case_detail", args=[case.id]),
        {"action": "status", "status-status": "resolved"},
    )
    page = client.get(reverse("cases:case_detail", args=[case.id]))

    assert board.status_code == 200
    assert f'hx-get="/staff/checks/{check.id}/progress/"' in board.content.decode()
    assert list(by_region.context["responses"]) == list(board.context["responses"])
    assert "Awa" in board.content.decode()
    assert "Awa" in queue.content.decode()
    case.refresh_from_db()
    assert (case.assignee, case.status) == (bamako_officer, "resolved")
    assert list(case.events.values_list("kind", flat=True)) == [
        "opened",
        "assigned",
        CaseEvent.Kind.CALL,
        "status",
    ]
    assert "Reached her by phone" in page.content.decode()
    assert AuditEvent.objects.filter(object_id=str(case.id), action="view").exists()


def test_bulk_assign_from_the_queue(client, bamako_officer):
    cases = [
        case_services.case_open(
            opened_by=bamako_officer, kind="other", country_code="ML", summary=s
        )
        for s in ("one", "two")
    ]
    login_verified(client, bamako_officer)

    client.post(
        reverse("cases:case_queue"),
        {"action": "assign_me", "case": [str(case.id) for case in cases]},
    )

    assert Case.objects.filter(assignee=bamako_officer).count() == 2


def test_staff_at_several_posts_narrow_the_queue_to_one(client, bamako_officer, beirut_officer):
    case_services.case_open(opened_by=bamako_officer, kind="other", country_code="ML", summary="ml")
    case_services.case_open(opened_by=beirut_officer, kind="other", country_code="LB", summary="lb")
    MembershipFactory(
        user=bamako_officer, post=Post.objects.get(code="post-lb"), role=Membership.Role.OFFICER
    )
    login_verified(client, bamako_officer)

    everything = client.get(reverse("cases:case_queue"))
    beirut = client.get(reverse("cases:case_queue"), {"post": "post-lb"})

    assert sorted(case.summary for case, _sla in everything.context["rows"]) == ["lb", "ml"]
    assert [case.summary for case, _sla in beirut.context["rows"]] == ["lb"]
    assert 'name="post"' in everything.content.decode()


def test_staff_at_one_post_get_no_post_filter(client, bamako_officer):
    login_verified(client, bamako_officer)

    assert 'name="post"' not in client.get(reverse("cases:case_queue")).content.decode()


def test_a_beirut_officer_gets_404_on_bamako_pages(client, beirut_officer, bamako_officer, asked):
    check, _awa, _token = asked
    case = case_services.case_open(
        opened_by=bamako_officer, kind="other", country_code="ML", summary="x"
    )
    login_verified(client, beirut_officer)

    assert client.get(reverse("cases:check_board", args=[check.id])).status_code == 404
    assert client.get(reverse("cases:case_detail", args=[case.id])).status_code == 404
    assert (
        client.get(reverse("cases:check_export", args=[check.id]), {"status": "needs_help"})
    ).status_code == 404
    assert list(client.get(reverse("cases:case_queue")).context["rows"]) == []


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.APPROVER])
def test_the_posts_advisory_staff_see_none_of_its_checks_and_cases(
    client, bamako_officer, asked, role
):
    check, _awa, _token = asked
    case = case_services.case_open(
        opened_by=bamako_officer, kind="other", country_code="ML", summary="x"
    )
    editor = MembershipFactory(post=Post.objects.get(code="post-ml"), role=role).user
    login_verified(client, editor)

    assert client.get(reverse("cases:check_board", args=[check.id])).status_code == 404
    assert client.get(reverse("cases:case_detail", args=[case.id])).status_code == 404
    assert (
        client.get(reverse("cases:check_export", args=[check.id]), {"status": "needs_help"})
    ).status_code == 404
    assert list(client.get(reverse("cases:check_list")).context["checks"]) == []
    assert list(client.get(reverse("cases:case_queue")).context["rows"]) == []
    client.post(reverse("cases:case_queue"), {"action": "assign_me", "case": [case.id]})
    case.refresh_from_db()
    assert case.assignee is None


def test_export_of_the_no_response_list_is_audited(client, bamako_officer, asked):
    check, awa, _token = asked
    safety_checks.safety_check_close(check=check)
    login_verified(client, bamako_officer)

    response = client.get(reverse("cases:check_export", args=[check.id]), {"status": "no_response"})

    lines = response.content.decode().splitlines()
    assert lines[0].startswith("region,given_name")
    assert awa.email in lines[1]
    event = AuditEvent.objects.get(action="export")
    assert event.detail == {"via": "staff", "list": "no_response"}
    assert event.object_id == str(check.id)


def test_the_check_form_offers_the_posts_countries_and_their_regions_only(client, bamako_officer):
    login_verified(client, bamako_officer)

    page = client.get(reverse("cases:check_new"))
    refused = client.post(
        reverse("cases:check_new"),
        {"country": "ML", "regions": ["ML-7", "LB-BA"], "question_en": "Safe?"},
    )

    form = page.context["form"]
    assert [code for code, _ in form.fields["country"].choices] == ["ML"]
    [(country_name, regions)] = form.fields["regions"].choices
    assert country_name == "Mali"
    assert "ML-7" in [code for code, _ in regions]
    assert 'value="ML-7"' in page.content.decode()
    assert refused.status_code == 200
    assert "regions" in refused.context["form"].errors
    assert not SafetyCheck.objects.exists()


def test_staff_write_a_check_then_a_second_person_starts_it_from_its_page(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    citizen_in("ML-1")
    login_verified(client, bamako_officer)
    written = client.post(
        reverse("cases:check_new"),
        {
            "country": "ML",
            "regions": "ML-7",
            "question_en": "Are you safe?",
            "deadline": "2099-01-01T10:00",
            "send_email": "on",
            "reminder_minutes": "60",
        },
    )
    check = SafetyCheck.objects.get()
    draft_page = client.get(reverse("cases:check_board", args=[check.id]))
    own_approval = client.post(reverse("cases:check_board", args=[check.id]), {"action": "submit"})
    refused = client.post(reverse("cases:check_board", args=[check.id]), {"action": "approve"})
    login_verified(client, second_person("ML", role=Membership.Role.OFFICER))

    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(reverse("cases:check_board", args=[check.id]), {"action": "approve"})
    board = client.get(reverse("cases:check_board", args=[check.id]))

    assert written.status_code == 302
    assert draft_page.context["reach"].people == 1
    assert "1 people, 1 messages" in draft_page.content.decode()
    assert own_approval.status_code == 302
    assert refused.status_code == 400
    assert "another staff member must approve it" in refused.context["refusal"]
    assert approved.status_code == 302
    assert SafetyResponse.objects.count() == 1
    assert len(mail.outbox) == 1
    assert "Approved by ml-second-officer" in board.content.decode()


def test_manage_page_shows_the_open_check_with_answer_links(client, asked):
    from registrations.tokens import manage_url

    check, awa, _token = asked

    page = client.get(manage_url(awa.id)).content.decode()

    assert check.question_en in page
    assert "/safety/" in page
    assert "/safe/" in page


def test_manage_page_lets_a_citizen_ask_for_help_without_a_check(client, bamako_officer):
    from registrations.tokens import manage_url

    awa = citizen_in("ML-7", name="Awa")
    page = client.get(manage_url(awa.id)).content.decode()
    help_path = next(part for part in page.split('"') if part.startswith("/help/"))

    client.post(
        help_path,
        {"help_kind": "documents", "people_with_them": "1", "details": "Passport stolen"},
    )

    case = Case.objects.get()
    assert (case.source, case.kind, case.region_id, case.post.code) == (
        "citizen",
        "documents",
        "ML-7",
        "post-ml",
    )
    assert "Passport stolen" in case.events.get().text
    assert client.get("/help/forged/").status_code == 404


def test_admin_lists_only_the_cases_and_checks_of_ones_posts(
    client, bamako_officer, beirut_officer, asked
):
    check, _awa, _token = asked
    case = case_services.case_open(
        opened_by=bamako_officer, kind="other", country_code="ML", summary="x"
    )
    login_verified(client, beirut_officer)

    cases = client.get("/admin/cases/case/")
    checks = client.get("/admin/cases/safetycheck/")

    assert cases.status_code == 200
    assert list(cases.context["cl"].queryset) == []
    assert list(checks.context["cl"].queryset) == []
    assert client.get(f"/admin/cases/case/{case.id}/change/").status_code == 302

    login_verified(client, bamako_officer)
    assert list(client.get("/admin/cases/case/").context["cl"].queryset) == [case]
    assert list(client.get("/admin/cases/safetycheck/").context["cl"].queryset) == [check]


def test_the_link_page_offers_both_answers(client, asked):
    _check, _awa, token = asked

    page = client.get(reverse("cases:respond", args=[token])).content.decode()

    assert reverse("cases:respond_safe", args=[token]) in page
    assert reverse("cases:respond_help", args=[token]) in page


def test_message_from_the_case_page_is_sent_and_on_the_timeline(
    client, bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", name="Awa")
    case = case_services.case_open(
        opened_by=bamako_officer, kind="other", country_code="ML", summary="x", citizen_id=awa.id
    )
    login_verified(client, bamako_officer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("cases:case_detail", args=[case.id]),
            {"action": "message", "message-subject": "", "message-text": "Call us please"},
        )

    assert [m.text for m in sms_outbox] == ["Call us please"]
    assert case.events.filter(kind="message").get().data["alert"]


def test_a_link_of_an_erased_citizen_is_not_found(client, asked):
    _check, awa, token = asked
    awa.delete()

    assert client.post(reverse("cases:respond_safe", args=[token])).status_code == 404


def test_an_approver_finds_the_check_awaiting_approval_and_rejects_it_from_its_page(
    client, bamako_officer
):
    citizen_in("ML-7")
    check = safety_checks.safety_check_submit(
        check=draft_check(bamako_officer), submitted_by=bamako_officer
    )
    draft_check(bamako_officer)  # not submitted: not theirs to see
    approver = second_person("ML")
    login_verified(client, approver)

    listed = client.get(reverse("cases:check_list"))
    page = client.get(reverse("cases:check_board", args=[check.id]))
    no_reason = client.post(reverse("cases:check_board", args=[check.id]), {"action": "reject"})
    rejected = client.post(
        reverse("cases:check_board", args=[check.id]),
        {"action": "reject", "reason": "Name the meeting point."},
    )

    assert list(listed.context["to_approve"]) == [check]
    assert list(listed.context["checks"]) == []
    assert page.context["reach"].people == 1
    assert "Approve and start the check" in page.content.decode()
    assert no_reason.status_code == 400
    assert rejected.status_code == 302
    check.refresh_from_db()
    assert (check.status, check.rejection_reason) == ("draft", "Name the meeting point.")
    # A draft is its author's: the approver no longer sees it.
    assert client.get(reverse("cases:check_board", args=[check.id])).status_code == 404


def test_the_author_changes_a_draft_on_its_edit_page(client, bamako_officer):
    check = draft_check(bamako_officer)
    login_verified(client, bamako_officer)

    form = client.get(reverse("cases:check_edit", args=[check.id]))
    changed = client.post(
        reverse("cases:check_edit", args=[check.id]),
        {
            "country": "ML",
            "regions": ["ML-7", "ML-1"],
            "question_en": "Are you and yours safe?",
            "deadline": "2099-01-01T10:00",
            "send_email": "on",
        },
    )
    safety_checks.safety_check_submit(check=check, submitted_by=bamako_officer)
    submitted = client.get(reverse("cases:check_edit", args=[check.id]))

    assert form.context["form"].initial["question_en"] == check.question_en
    assert changed.status_code == 302
    check.refresh_from_db()
    assert (check.region_codes, check.question_en, check.send_sms) == (
        ["ML-1", "ML-7"],
        "Are you and yours safe?",
        False,
    )
    assert submitted.status_code == 404


def test_urgent_mode_offers_the_author_to_start_alone_and_the_board_says_so(
    client, bamako_officer, django_capture_on_commit_callbacks
):
    citizen_in("ML-7")
    check = draft_check(bamako_officer)
    login_verified(client, bamako_officer)
    without = client.get(reverse("cases:check_board", args=[check.id]))
    Post.objects.filter(code="post-ml").update(urgent_safety_checks=True)

    offered = client.get(reverse("cases:check_board", args=[check.id]))
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("cases:check_board", args=[check.id]), {"action": "start_alone"}
        )
    board = client.get(reverse("cases:check_board", args=[check.id])).content.decode()
    listed = client.get(reverse("cases:check_list")).content.decode()

    assert "urgent mode" not in without.content.decode()
    assert "Start now without a second person (urgent mode)" in offered.content.decode()
    assert started.status_code == 302
    assert len(mail.outbox) == 1
    assert "Started without a second person (urgent mode)" in board
    assert "started without a second person (urgent mode)" in listed


def test_the_admin_shows_a_check_started_alone(client, bamako_officer):
    Post.objects.filter(code="post-ml").update(urgent_safety_checks=True)
    check = safety_checks.safety_check_start_alone(
        check=draft_check(bamako_officer), started_by=bamako_officer
    )
    login_verified(client, bamako_officer)

    listed = client.get("/admin/cases/safetycheck/").content.decode()
    detail = client.get(f"/admin/cases/safetycheck/{check.id}/change/").content.decode()

    assert "Started without a second person (urgent mode)" in listed
    assert "Started without a second person (urgent mode)" in detail
