import pytest

from accounts.models import Membership
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.models import AuditEvent
from departures.models import DepartureOperation
from departures.services import operations
from tests.accounts.factories import PostFactory, staff_at
from tests.departures.conftest import open_operation, operation_fields

pytestmark = pytest.mark.django_db


def test_an_operation_opens_as_a_draft_and_runs_once_a_second_person_approves(
    officer, second_officer
):
    draft = operations.operation_open(
        opened_by=officer, country_code="ml", fields=operation_fields(region_codes=["ml-7"])
    )
    assert (draft.status, draft.country_id, draft.region_codes) == ("draft", "ML", ["ML-7"])

    operations.operation_submit(operation=draft, submitted_by=officer)
    approved = operations.operation_approve(operation=draft, approver=second_officer)

    assert approved.status == "open"
    assert approved.approved_by == second_officer
    steps = list(
        AuditEvent.objects.filter(object_id=str(draft.id)).values_list("detail__step", flat=True)
    )
    assert sorted(steps) == ["approve", "open", "submit"]


def test_the_officer_who_opened_an_operation_cannot_approve_it(officer):
    draft = operations.operation_open(
        opened_by=officer, country_code="ML", fields=operation_fields()
    )
    operations.operation_submit(operation=draft, submitted_by=officer)

    with pytest.raises(PermissionDenied) as refused:
        operations.operation_approve(operation=draft, approver=officer)

    assert refused.value.code == "four_eyes"
    draft.refresh_from_db()
    assert draft.status == "awaiting_approval"


def test_staff_of_another_post_and_advisory_approvers_cannot_open_or_approve(officer):
    PostFactory(code="post-lb", countries=["LB"])
    beirut = staff_at("LB", Membership.Role.OFFICER, username="beirut-officer")
    approver = staff_at("ML", Membership.Role.APPROVER, username="ml-approver")
    for user in (beirut, approver):
        with pytest.raises(PermissionDenied):
            operations.operation_open(opened_by=user, country_code="ML", fields=operation_fields())
    draft = operations.operation_open(
        opened_by=officer, country_code="ML", fields=operation_fields()
    )
    operations.operation_submit(operation=draft, submitted_by=officer)

    with pytest.raises(PermissionDenied):
        operations.operation_approve(operation=draft, approver=approver)

    assert DepartureOperation.objects.get().status == "awaiting_approval"


def test_an_operation_needs_its_eligibility_rule_and_regions_of_the_country(officer):
    with pytest.raises(ValidationFailed) as no_rule:
        operations.operation_open(
            opened_by=officer, country_code="ML", fields=operation_fields(eligibility_en=" ")
        )
    with pytest.raises(ValidationFailed) as foreign_region:
        operations.operation_open(
            opened_by=officer, country_code="ML", fields=operation_fields(region_codes=["LB-BA"])
        )

    assert (no_rule.value.field, foreign_region.value.field) == ("eligibility_en", "region_codes")
    assert not DepartureOperation.objects.exists()


def test_a_country_has_one_operation_under_way(officer, second_officer):
    open_operation(officer, second_officer)
    another = operations.operation_open(
        opened_by=officer, country_code="ML", fields=operation_fields()
    )

    with pytest.raises(Conflict) as refused:
        operations.operation_submit(operation=another, submitted_by=officer)

    assert refused.value.field == "country"
    another.refresh_from_db()
    assert another.status == "draft"


def test_closing_then_closed(officer, second_officer):
    operation = open_operation(officer, second_officer)

    assert operations.operation_close(operation=operation, closed_by=officer).status == "closing"
    assert operations.operation_close(operation=operation, closed_by=officer).status == "closed"
    with pytest.raises(Conflict):
        operations.operation_close(operation=operation, closed_by=officer)


def test_the_approved_rule_does_not_change_but_the_instructions_may(officer, second_officer):
    operation = open_operation(officer, second_officer)

    with pytest.raises(Conflict):
        operations.operation_update(
            operation=operation,
            editor=officer,
            fields=operation_fields(eligibility_en="Nationals only."),
        )
    updated = operations.operation_update(
        operation=operation,
        editor=officer,
        fields=operation_fields(assembly_instructions_en="Gate 4, 6 am."),
    )

    assert updated.assembly_instructions_en == "Gate 4, 6 am."
    assert updated.text("assembly_instructions", "fr") == "Apportez votre passeport."


def test_a_rejected_operation_goes_back_to_draft_with_the_reason(officer, second_officer):
    draft = operations.operation_open(
        opened_by=officer, country_code="ML", fields=operation_fields()
    )
    operations.operation_submit(operation=draft, submitted_by=officer)
    with pytest.raises(ValidationFailed):
        operations.operation_reject(operation=draft, rejected_by=second_officer, reason="")

    rejected = operations.operation_reject(
        operation=draft, rejected_by=second_officer, reason="Say which regions."
    )

    assert (rejected.status, rejected.rejection_reason) == ("draft", "Say which regions.")
