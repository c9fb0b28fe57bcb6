"""Cases: the post's record of help given to a citizen, opened by staff, by the citizen, or by a
safety check (a call for help, or no answer by the deadline), and worked along its statuses."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Post, User
from accounts.permissions import require_role
from accounts.selectors import (
    REGISTER_ROLES,
    country_codes_of_user,
    post_covering_country,
    posts_of_user,
)
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.services.texts import languages
from core.exceptions import Conflict, NotFound, ValidationFailed
from notifications.alerts import MessageTexts, message_alert_create
from regions.selectors import regions_of_country
from registrations.selectors import citizens_for_staff, household_member_ids_of_citizen

# Which kind of case a "needs help" answer opens, and how urgent it is.
HELP_CASE_KIND = {
    SafetyResponse.HelpKind.EVACUATION: (Case.Kind.EVACUATION, Case.Priority.URGENT),
    SafetyResponse.HelpKind.MEDICAL: (Case.Kind.MEDICAL, Case.Priority.URGENT),
    SafetyResponse.HelpKind.DOCUMENTS: (Case.Kind.DOCUMENTS, Case.Priority.NORMAL),
    SafetyResponse.HelpKind.OTHER: (Case.Kind.OTHER, Case.Priority.HIGH),
    "": (Case.Kind.OTHER, Case.Priority.HIGH),
}

# Allowed moves of a case's status; a closed case stays closed.
TRANSITIONS: dict[str, set[str]] = {
    Case.Status.NEW: {
        Case.Status.CONTACTED,
        Case.Status.IN_PROGRESS,
        Case.Status.RESOLVED,
        Case.Status.CLOSED,
    },
    Case.Status.CONTACTED: {Case.Status.IN_PROGRESS, Case.Status.RESOLVED, Case.Status.CLOSED},
    Case.Status.IN_PROGRESS: {Case.Status.CONTACTED, Case.Status.RESOLVED, Case.Status.CLOSED},
    Case.Status.RESOLVED: {Case.Status.IN_PROGRESS, Case.Status.CLOSED},
    Case.Status.CLOSED: set(),
}


def _post_for(country_code: str) -> Post:
    post = post_covering_country(country_code=country_code)
    if post is None:
        raise ValidationFailed(_("No post covers this country."), field="country")
    return post


def _case_create(
    *,
    kind: str,
    priority: int,
    source: str,
    country_code: str,
    region_code: str | None,
    citizen_id: uuid.UUID | str | None,
    opened_by: User | None,
    summary: str = "",
    safety_check: SafetyCheck | None = None,
    household_member_ids: Collection[uuid.UUID | str] = (),
    text: str = "",
) -> Case:
    known = {region.code for region in regions_of_country(country_code=country_code)}
    case = Case.objects.create(
        kind=kind,
        priority=priority,
        source=source,
        post=_post_for(country_code),
        country_id=country_code,
        region_id=region_code if region_code in known else None,
        citizen_id=citizen_id,
        safety_check=safety_check,
        summary=summary.strip()[:300],
        opened_by=opened_by,
    )
    if household_member_ids and citizen_id is not None:
        case.household_members.set(
            # The stubs expect integer keys; a household member's is a UUID.
            household_member_ids_of_citizen(  # type: ignore[arg-type]
                citizen_id=citizen_id, among=household_member_ids
            )
        )
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.OPENED, actor=opened_by, text=text)
    return case


def case_open(
    *,
    opened_by: User,
    kind: str,
    country_code: str,
    summary: str,
    priority: int = Case.Priority.NORMAL,
    region_code: str | None = None,
    citizen_id: uuid.UUID | str | None = None,
    household_member_ids: Collection[uuid.UUID | str] = (),
    text: str = "",
) -> Case:
    """Consular staff (officers, post administrators) open a case (a walk-in, a call, a family
    asking about a relative) in a country their posts cover; it goes to the post covering that
    country."""
    country_code = country_code.upper()
    require_role(
        user=opened_by,
        roles=REGISTER_ROLES,
        country_code=country_code,
        message=_("You cannot open a case in this country."),
    )
    codes = country_codes_of_user(user=opened_by, roles=REGISTER_ROLES)
    # A citizen registered only elsewhere does not exist for this post: naming one would
    # put another post's register on this post's case.
    if (
        citizen_id is not None
        and not citizens_for_staff(country_codes=codes).filter(id=citizen_id).exists()
    ):
        raise NotFound(_("No such citizen."), field="citizen")
    if kind not in Case.Kind.values:
        raise ValidationFailed(_("Unknown kind."), field="kind")
    if not summary.strip():
        raise ValidationFailed(_("Say what the case is about."), field="summary")
    with transaction.atomic():
        return _case_create(
            kind=kind,
            priority=priority,
            source=Case.Source.STAFF,
            country_code=country_code,
            region_code=region_code,
            citizen_id=citizen_id,
            summary=summary,
            opened_by=opened_by,
            household_member_ids=household_member_ids,
            text=text,
        )


def case_open_by_citizen(
    *,
    citizen_id: uuid.UUID | str,
    country_code: str,
    region_code: str | None,
    help_kind: str,
    text: str,
) -> Case:
    """A citizen asks for help themselves (from their page)."""
    kind, priority = HELP_CASE_KIND[help_kind]
    with transaction.atomic():
        return _case_create(
            kind=kind,
            priority=priority,
            source=Case.Source.CITIZEN,
            country_code=country_code.upper(),
            region_code=region_code,
            citizen_id=citizen_id,
            opened_by=None,
            text=text[:2000],
        )


def _locked_case_for(*, case: Case, actor: User) -> Case:
    """The case, locked, once the actor is known to hold a register role at its post: a case
    names a citizen, which advisory editors and approvers do not see. Another post's case does
    not exist for the actor."""
    locked = (
        Case.objects.select_for_update()
        .filter(id=case.id, post__in=posts_of_user(user=actor))
        .first()
    )
    if locked is None:
        raise NotFound(_("No such case."))
    require_role(
        user=actor,
        roles=REGISTER_ROLES,
        post_id=locked.post_id,
        message=_("Only the consular staff of the case's post can work on it."),
    )
    return locked


def case_status_change(*, case: Case, status: str, actor: User, text: str = "") -> Case:
    """Move a case along its allowed statuses, with a line on its timeline."""
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        if status not in TRANSITIONS.get(case.status, set()):
            raise Conflict(
                _("A %(old)s case cannot become %(new)s.")
                % {"old": case.get_status_display(), "new": status},
                field="status",
            )
        old = case.status
        now = timezone.now()
        case.status = status
        if status == Case.Status.RESOLVED:
            case.resolved_at = now
        if status == Case.Status.CLOSED:
            case.closed_at = now
        case.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.STATUS,
            actor=actor,
            text=text,
            data={"from": old, "to": status},
        )
    return case


def case_assign(*, case: Case, assignee: User | None, actor: User) -> Case:
    """Give the case to a consular staff member of its post (or to nobody). Giving it to
    whom it is with already changes nothing and records nothing: a second click on "Assign
    to me" (or two officers' at once, serialised by the row lock) writes one event."""
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        if case.assignee_id == (assignee.pk if assignee else None):
            return case
        if (
            assignee is not None
            and not posts_of_user(user=assignee, roles=REGISTER_ROLES)
            .filter(id=case.post_id)
            .exists()
        ):
            raise ValidationFailed(
                _("This person does not work at the case's post."), field="assignee"
            )
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ASSIGNED,
            actor=actor,
            data={"assignee": str(assignee.id) if assignee else None},
            text=assignee.get_username() if assignee else "",
        )
    return case


@dataclass(frozen=True)
class BulkAssignment:
    assigned: int
    # Already with the assignee: nothing changed, nothing recorded.
    unchanged: int


def cases_assign(
    *, case_ids: Collection[uuid.UUID | str], assignee: User, actor: User
) -> BulkAssignment:
    """Bulk assignment from the queue, all or nothing: every id must be a case of the actor's
    posts (a foreign one is not found) and the assignee must work at each case's post (else
    none is assigned). Each case goes through `case_assign`, so a case already with the
    assignee records nothing, however often it is asked."""
    try:
        ids = {uuid.UUID(str(case_id)) for case_id in case_ids}
    except ValueError:
        raise NotFound(_("No such case."), field="case") from None
    if not ids:
        raise ValidationFailed(_("Select at least one case."), field="case")
    with transaction.atomic():
        # Locked in id order: two officers assigning overlapping selections wait on each
        # other instead of deadlocking.
        cases = list(
            Case.objects.select_for_update()
            .filter(id__in=list(ids), post__in=posts_of_user(user=actor, roles=REGISTER_ROLES))
            .order_by("id")
        )
        if len(cases) != len(ids):
            raise NotFound(_("No such case."), field="case")
        assignee_posts = set(
            posts_of_user(user=assignee, roles=REGISTER_ROLES).values_list("id", flat=True)
        )
        if any(case.post_id not in assignee_posts for case in cases):
            raise ValidationFailed(
                _("This person does not work at the post of every selected case."),
                field="assignee",
            )
        assigned = 0
        for case in cases:
            if case.assignee_id != assignee.pk:
                case_assign(case=case, assignee=assignee, actor=actor)
                assigned += 1
    return BulkAssignment(assigned=assigned, unchanged=len(cases) - assigned)


def case_note_add(
    *, case: Case, actor: User, text: str, kind: str = CaseEvent.Kind.NOTE
) -> CaseEvent:
    """A note or a call logged on the timeline."""
    if kind not in (CaseEvent.Kind.NOTE, CaseEvent.Kind.CALL):
        raise ValidationFailed(_("A note or a call."), field="kind")
    if not text.strip():
        raise ValidationFailed(_("Write something."), field="text")
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        return CaseEvent.objects.create(case=case, kind=kind, actor=actor, text=text.strip())


def case_message_send(
    *, case: Case, actor: User, subject: str, text: str, sms: str = ""
) -> CaseEvent:
    """Write to the case's citizen through the alerts' ledger; the timeline links the alert."""
    if not text.strip():
        raise ValidationFailed(_("Write the message."), field="text")
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        if case.citizen_id is None:
            raise Conflict(_("This case has no citizen to write to."), field="citizen")
        message = MessageTexts(
            subject=subject.strip() or _("A message from your consulate"),
            text=text.strip(),
            sms=(sms or text).strip()[:480],
        )
        alert = message_alert_create(
            country_code=case.country_id,
            citizen_ids=[case.citizen_id],
            texts=dict.fromkeys(languages(), message),
            created_by=actor,
        )
        return CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.MESSAGE,
            actor=actor,
            text=text.strip(),
            data={"alert": str(alert.id)},
        )
