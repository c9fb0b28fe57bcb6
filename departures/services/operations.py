"""Departure operations: opened as a draft by consular staff of a post covering the country,
submitted, and started by a second person (draft -> awaiting_approval -> open), the pattern
of safety checks; then closing (no new intents) and closed."""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import Action
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from departures.models import TEXT_MAX, DepartureOperation
from departures.services.common import audit, require_staff
from regions.selectors import country_exists, region_codes_of_country

Status = DepartureOperation.Status


@dataclass(frozen=True)
class OperationFields:
    """What staff write: where, who may leave, what to bring, where to gather; in English
    and French (a French text left empty reads the English one)."""

    eligibility_en: str
    region_codes: Sequence[str] = ()
    eligibility_fr: str = ""
    baggage_policy_en: str = ""
    baggage_policy_fr: str = ""
    assembly_instructions_en: str = ""
    assembly_instructions_fr: str = ""


def _cleaned(*, country_code: str, fields: OperationFields) -> OperationFields:
    known = region_codes_of_country(country_code=country_code)
    region_codes = sorted({code.strip().upper() for code in fields.region_codes if code.strip()})
    if not set(region_codes) <= known:
        raise ValidationFailed(_("Choose regions of the country."), field="region_codes")
    texts = {
        name: getattr(fields, name).strip()
        for name in (
            "eligibility_en",
            "eligibility_fr",
            "baggage_policy_en",
            "baggage_policy_fr",
            "assembly_instructions_en",
            "assembly_instructions_fr",
        )
    }
    if not texts["eligibility_en"]:
        raise ValidationFailed(_("Say who may leave with this operation."), field="eligibility_en")
    for name, value in texts.items():
        if len(value) > TEXT_MAX:
            raise ValidationFailed(_("At most %(max)d characters.") % {"max": TEXT_MAX}, field=name)
    return dataclasses.replace(fields, region_codes=region_codes, **texts)


def _locked(operation: DepartureOperation) -> DepartureOperation:
    return DepartureOperation.objects.select_for_update().get(id=operation.id)


def operation_open(
    *, opened_by: User, country_code: str, fields: OperationFields
) -> DepartureOperation:
    """A draft operation: nobody can state an intent until a second person approves it."""
    country_code = country_code.strip().upper()
    if not country_exists(code=country_code):
        raise ValidationFailed(_("No such country."), field="country")
    require_staff(user=opened_by, country_code=country_code)
    cleaned = _cleaned(country_code=country_code, fields=fields)
    with transaction.atomic():
        operation = DepartureOperation.objects.create(
            country_id=country_code,
            created_by=opened_by,
            **{
                name: value
                for name, value in dataclasses.asdict(cleaned).items()
                if name != "region_codes"
            },
            region_codes=list(cleaned.region_codes),
        )
        audit(
            user=opened_by, action=Action.CREATE, obj=operation, step="open", country=country_code
        )
    return operation


def operation_update(
    *, operation: DepartureOperation, editor: User, fields: OperationFields
) -> DepartureOperation:
    """Rewrite the texts. The regions and the eligibility rule are fixed once approved: the
    second person approved those; the baggage policy and the assembly instructions may follow
    events."""
    with transaction.atomic():
        operation = _locked(operation)
        require_staff(user=editor, country_code=operation.country_id)
        if operation.status == Status.CLOSED:
            raise Conflict(_("This operation is closed."), field="status")
        cleaned = _cleaned(country_code=operation.country_id, fields=fields)
        approved = operation.status in DepartureOperation.APPROVED_STATUSES
        if approved and (
            list(cleaned.region_codes) != operation.region_codes
            or cleaned.eligibility_en != operation.eligibility_en
            or cleaned.eligibility_fr != operation.eligibility_fr
        ):
            raise Conflict(
                _("The regions and who may leave were approved: they cannot change now."),
                field="eligibility_en",
            )
        for name, value in dataclasses.asdict(cleaned).items():
            setattr(operation, name, list(value) if name == "region_codes" else value)
        operation.save()
        audit(user=editor, action=Action.CHANGE, obj=operation, step="update")
    return operation


def operation_submit(*, operation: DepartureOperation, submitted_by: User) -> DepartureOperation:
    """Hand a draft to a second person of a post covering the country."""
    with transaction.atomic():
        operation = _locked(operation)
        require_staff(user=submitted_by, country_code=operation.country_id)
        if operation.status != Status.DRAFT:
            raise Conflict(_("Only a draft can be submitted."), field="status")
        operation.status, operation.submitted_at = Status.AWAITING_APPROVAL, timezone.now()
        operation.rejection_reason = ""
        try:
            with transaction.atomic():
                operation.save()
        except IntegrityError:
            raise Conflict(
                _("This country already has a departure operation under way."), field="country"
            ) from None
        audit(user=submitted_by, action=Action.CHANGE, obj=operation, step="submit")
    return operation


def operation_approve(*, operation: DepartureOperation, approver: User) -> DepartureOperation:
    """Four eyes: consular staff of a post covering the country who did not open the operation
    starts it. Under the row lock, so two approvers at once start it once."""
    with transaction.atomic():
        operation = _locked(operation)
        require_staff(user=approver, country_code=operation.country_id)
        if operation.created_by_id == approver.id:
            raise PermissionDenied(
                _("You opened this operation: another staff member must approve it."),
                field="approved_by",
                code="four_eyes",
            )
        if operation.status != Status.AWAITING_APPROVAL:
            raise Conflict(_("Only a submitted operation can be approved."), field="status")
        operation.status = Status.OPEN
        operation.approved_by, operation.approved_at = approver, timezone.now()
        operation.save()
        audit(user=approver, action=Action.CHANGE, obj=operation, step="approve")
    return operation


def operation_reject(
    *, operation: DepartureOperation, rejected_by: User, reason: str
) -> DepartureOperation:
    """Send a submitted operation back to draft, with the reason for its author."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the operation is rejected."), field="reason")
    with transaction.atomic():
        operation = _locked(operation)
        require_staff(user=rejected_by, country_code=operation.country_id)
        if operation.status != Status.AWAITING_APPROVAL:
            raise Conflict(_("Only a submitted operation can be rejected."), field="status")
        operation.status, operation.rejection_reason = Status.DRAFT, reason[:2000]
        operation.save()
        audit(user=rejected_by, action=Action.CHANGE, obj=operation, step="reject")
    return operation


def operation_close(*, operation: DepartureOperation, closed_by: User) -> DepartureOperation:
    """One step towards the end: an open operation starts closing (no new intent; offers made
    still run), a closing one closes (nothing more happens)."""
    with transaction.atomic():
        operation = _locked(operation)
        require_staff(user=closed_by, country_code=operation.country_id)
        now = timezone.now()
        if operation.status == Status.OPEN:
            operation.status, operation.closing_at = Status.CLOSING, now
        elif operation.status == Status.CLOSING:
            operation.status, operation.closed_at = Status.CLOSED, now
        else:
            raise Conflict(_("Only an open or closing operation can be closed."), field="status")
        operation.save()
        audit(user=closed_by, action=Action.CHANGE, obj=operation, step=operation.status)
    return operation
