import pytest
from django.core import mail

from accounts.models import Membership
from cases.models import Case
from cases.services import cases as case_services
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from notifications.models import Alert, Delivery
from tests.accounts.factories import PostFactory, staff_at
from tests.cases.conftest import citizen_in


def test_staff_open_a_case_for_their_country_only(bamako_officer, beirut_officer):
    case = case_services.case_open(
        opened_by=bamako_officer,
        kind=Case.Kind.WELFARE,
        country_code="ML",
        region_code="ML-7",
        summary="Family asking about a relative",
    )
    assert (case.post.code, case.status, case.source) == ("post-ml", "new", "staff")
    with pytest.raises(PermissionDenied):
        case_services.case_open(
            opened_by=beirut_officer, kind=Case.Kind.OTHER, country_code="ML", summary="x"
        )


def test_status_transitions_are_recorded_and_a_closed_case_stays_closed(bamako_officer):
    case = case_services.case_open(
        opened_by=bamako_officer, kind=Case.Kind.MEDICAL, country_code="ML", summary="Walk-in"
    )

    case_services.case_status_change(case=case, status="contacted", actor=bamako_officer)
    case_services.case_status_change(case=case, status="resolved", actor=bamako_officer)
    case_services.case_status_change(case=case, status="closed", actor=bamako_officer)

    with pytest.raises(Conflict):
        case_services.case_status_change(case=case, status="in_progress", actor=bamako_officer)
    case.refresh_from_db()
    assert case.resolved_at
    assert case.closed_at
    assert [e.data for e in case.events.filter(kind="status")] == [
        {"from": "new", "to": "contacted"},
        {"from": "contacted", "to": "resolved"},
        {"from": "resolved", "to": "closed"},
    ]


def test_assign_only_within_the_post_and_never_outside_ones_posts(bamako_officer, beirut_officer):
    from core.exceptions import NotFound

    case = case_services.case_open(
        opened_by=bamako_officer, kind=Case.Kind.OTHER, country_code="ML", summary="Call"
    )

    case_services.case_assign(case=case, assignee=bamako_officer, actor=bamako_officer)
    with pytest.raises(ValidationFailed):
        case_services.case_assign(case=case, assignee=beirut_officer, actor=bamako_officer)
    with pytest.raises(NotFound):
        case_services.case_assign(case=case, assignee=beirut_officer, actor=beirut_officer)
    with pytest.raises(NotFound):
        case_services.case_note_add(case=case, actor=beirut_officer, text="peek")
    with pytest.raises(NotFound):
        case_services.cases_assign(
            case_ids=[case.id], assignee=beirut_officer, actor=beirut_officer
        )
    case.refresh_from_db()
    assert case.assignee == bamako_officer


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.APPROVER])
def test_advisory_staff_of_the_post_neither_open_nor_work_on_its_cases(bamako_officer, role):
    editor = staff_at("ML", role, username=f"bamako-{role}")
    case = case_services.case_open(
        opened_by=bamako_officer, kind=Case.Kind.OTHER, country_code="ML", summary="Call"
    )

    steps = [
        lambda: case_services.case_open(
            opened_by=editor, kind=Case.Kind.OTHER, country_code="ML", summary="x"
        ),
        lambda: case_services.case_assign(case=case, assignee=editor, actor=editor),
        lambda: case_services.case_note_add(case=case, actor=editor, text="peek"),
        lambda: case_services.case_status_change(case=case, status="closed", actor=editor),
        lambda: case_services.case_message_send(case=case, actor=editor, subject="", text="Hello"),
    ]
    for step in steps:
        with pytest.raises(PermissionDenied):
            step()

    with pytest.raises(ValidationFailed):
        case_services.case_assign(case=case, assignee=editor, actor=bamako_officer)
    with pytest.raises(NotFound):
        case_services.cases_assign(case_ids=[case.id], assignee=editor, actor=editor)
    case.refresh_from_db()
    assert (case.status, case.assignee, case.events.count()) == ("new", None, 1)
    assert Case.objects.count() == 1


def test_message_from_a_case_goes_through_the_ledger_and_onto_the_timeline(
    bamako_officer, django_capture_on_commit_callbacks, sms_outbox
):
    awa = citizen_in("ML-7", name="Awa")
    case = case_services.case_open(
        opened_by=bamako_officer,
        kind=Case.Kind.OTHER,
        country_code="ML",
        summary="Call",
        citizen_id=awa.id,
    )

    with django_capture_on_commit_callbacks(execute=True):
        event = case_services.case_message_send(
            case=case, actor=bamako_officer, subject="", text="Please call us back."
        )

    alert = Alert.objects.get(id=event.data["alert"])
    assert alert.citizen_ids == [str(awa.id)]
    assert [m.to for m in mail.outbox] == [[awa.email]]
    assert [m.text for m in sms_outbox] == ["Please call us back."]
    assert Delivery.objects.filter(alert=alert, status="sent").count() == 2


def test_staff_link_only_a_citizen_registered_in_their_countries(bamako_officer):
    in_beirut = citizen_in("LB-BA", name="Rami")

    with pytest.raises(NotFound):
        case_services.case_open(
            opened_by=bamako_officer,
            kind=Case.Kind.WELFARE,
            country_code="ML",
            summary="x",
            citizen_id=in_beirut.id,
        )


def test_a_case_goes_to_the_countrys_embassy_before_a_consulate(bamako_officer):
    PostFactory(code="post-ml-gao", name="Consulate in Gao", kind="consulate", countries=["ML"])

    case = case_services.case_open(
        opened_by=bamako_officer, kind=Case.Kind.WELFARE, country_code="ML", summary="Walk-in"
    )

    assert case.post.code == "post-ml"


def test_assigning_twice_to_the_same_person_records_one_event(bamako_officer):
    case = case_services.case_open(
        opened_by=bamako_officer, kind="welfare", country_code="ML", summary="Walk-in."
    )

    case_services.case_assign(case=case, assignee=bamako_officer, actor=bamako_officer)
    case_services.case_assign(case=case, assignee=bamako_officer, actor=bamako_officer)
    case_services.cases_assign(case_ids=[case.id], assignee=bamako_officer, actor=bamako_officer)

    assert list(case.events.values_list("kind", flat=True)) == ["opened", "assigned"]
