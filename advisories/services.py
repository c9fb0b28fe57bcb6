"""The advisory workflow: draft -> submitted -> (approved, maybe scheduled) -> published ->
superseded, with rejection back to draft and withdrawal. Every step is one service here;
the API, the admin, the beat task and the demo seeder all call these."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import SYSTEM, System, require_role
from advisories.events import Notify
from advisories.models import Advisory, Indicator, LevelChange, Posture, RegionOverride, Transition
from advisories.public_pages import public_pages_changed
from advisories.publication import publication_plan_between
from advisories.review import require_confirmation, require_sms_fit
from core import events
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from regions.selectors import country_exists, region_codes_of_country
from regions.services import country_lock

logger = logging.getLogger(__name__)

EDITOR = "editor"
APPROVER = "approver"
EDITOR_OR_APPROVER = "editor_or_approver"

# What an editor may set on a draft; everything else is the workflow's to set.
CONTENT_FIELDS = (
    "country_level",
    "indicators",
    "posture",
    "assistance_note_en",
    "assistance_note_fr",
    "summary_en",
    "summary_fr",
    "body_en",
    "body_fr",
    "instructions_en",
    "instructions_fr",
)
# The change note and whom to tell belong to one version: a new draft starts without them.
DRAFT_FIELDS = (*CONTENT_FIELDS, "change_note_en", "change_note_fr", "notify", "scheduled_for")
NOTIFICATION_TEXTS = ("change_note_en", "change_note_fr")
NOTIFICATION_TEXT_MISSING = _(
    "Write the change note in English and French: it is the message the people told of this "
    "version read."
)


@dataclass(frozen=True)
class OverrideInput:
    region_code: str
    level: int
    note_en: str = ""
    note_fr: str = ""


def _require_role(*, user: User, country_code: str, role: str) -> None:
    if role == APPROVER:
        require_role(
            user=user,
            roles=[APPROVER],
            country_code=country_code,
            message=_("Only an approver of a post covering this country can do this."),
            code="not_approver",
        )
        return
    require_role(
        user=user,
        roles=[EDITOR, APPROVER] if role == EDITOR_OR_APPROVER else [role],
        country_code=country_code,
        message=_("Only an editor of a post covering this country can do this."),
        code="not_editor",
    )


def can_act(*, user: User, advisory: Advisory, role: str) -> bool:
    """Whether the user may take the role's step on the version: the editor's (submit) or
    the approver's (approve, reject; never on a version they wrote, edited or submitted).
    Pages show a step's buttons by it; the step itself checks again."""
    try:
        _require_role(user=user, country_code=advisory.country_id, role=role)
    except PermissionDenied:
        return False
    return role != APPROVER or user.pk not in _contributors(advisory)


def _require_status(advisory: Advisory, *statuses: str) -> None:
    if advisory.status not in statuses:
        raise Conflict(
            _("This advisory is %(status)s; this step is not possible now.")
            % {"status": advisory.get_status_display()},
            field="status",
            code="invalid_state",
        )


def _record(
    advisory: Advisory,
    *,
    action: str,
    from_status: str,
    actor: User | None,
    comment: str = "",
) -> None:
    Transition.objects.create(
        advisory=advisory,
        action=action,
        from_status=from_status,
        to_status=advisory.status,
        actor=actor,
        comment=comment,
    )


def _validate_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be set on a draft: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    if "country_level" in fields and fields["country_level"] not in (1, 2, 3, 4):
        raise ValidationFailed(_("A level is 1, 2, 3 or 4."), field="country_level")
    if "indicators" in fields:
        indicators = fields["indicators"]
        if not isinstance(indicators, list | tuple) or not set(indicators) <= set(Indicator.values):
            raise ValidationFailed(
                _("Unknown risk indicator; use: %(choices)s")
                % {"choices": ", ".join(Indicator.values)},
                field="indicators",
            )
    if "posture" in fields and fields["posture"] not in Posture.values:
        raise ValidationFailed(_("Unknown staffing posture."), field="posture")
    if "notify" in fields and fields["notify"] not in Notify.values:
        raise ValidationFailed(
            _("Choose whom to tell: %(choices)s") % {"choices": ", ".join(Notify.values)},
            field="notify",
        )
    scheduled_for = fields.get("scheduled_for")
    if scheduled_for is not None and (
        not isinstance(scheduled_for, datetime) or timezone.is_naive(scheduled_for)
    ):
        raise ValidationFailed(
            _("Give the publication time with its time zone."), field="scheduled_for"
        )


def _require_notification_text(advisory: Advisory) -> None:
    """A version that tells more people than those whose level changed tells them what
    changed: its change note, in every language they read."""
    if advisory.notify == Notify.LEVEL_CHANGES:
        return
    for name in NOTIFICATION_TEXTS:
        if not getattr(advisory, name).strip():
            raise ValidationFailed(
                NOTIFICATION_TEXT_MISSING,
                field=name,
                code="notification_text_missing",
            )


def _validate_overrides(*, country_code: str, overrides: Sequence[OverrideInput]) -> None:
    codes = [override.region_code for override in overrides]
    if len(set(codes)) != len(codes):
        raise ValidationFailed(_("A region is listed twice."), field="overrides")
    foreign = set(codes) - region_codes_of_country(country_code=country_code)
    if foreign:
        raise ValidationFailed(
            _("Not a region of this country: %(codes)s") % {"codes": ", ".join(sorted(foreign))},
            field="overrides",
        )
    if any(override.level not in (1, 2, 3, 4) for override in overrides):
        raise ValidationFailed(_("A level is 1, 2, 3 or 4."), field="overrides")


def _set_overrides(advisory: Advisory, overrides: Sequence[OverrideInput]) -> None:
    advisory.overrides.all().delete()
    RegionOverride.objects.bulk_create(
        RegionOverride(
            advisory=advisory,
            region_id=override.region_code,
            level=override.level,
            note_en=override.note_en,
            note_fr=override.note_fr,
        )
        for override in overrides
    )


def _current_for_update(country_code: str) -> Advisory | None:
    return (
        Advisory.objects.select_for_update(no_key=True)
        .filter(country_id=country_code, status=Advisory.Status.PUBLISHED)
        .first()
    )


@transaction.atomic
def advisory_draft_create(
    *,
    country_code: str,
    author: User,
    fields: Mapping[str, Any] | None = None,
    overrides: Sequence[OverrideInput] | None = None,
) -> Advisory:
    """A new draft for the country, starting from the current version's content and region
    levels; `fields` and `overrides` (which replace all region levels) then apply."""
    country_code = country_code.upper()
    if not country_exists(code=country_code):
        raise ValidationFailed(_("Unknown country."), field="country")
    _require_role(user=author, country_code=country_code, role=EDITOR)
    fields = dict(fields or {})
    _validate_fields(fields)
    if overrides is not None:
        _validate_overrides(country_code=country_code, overrides=overrides)

    current = (
        Advisory.objects.filter(country_id=country_code, status=Advisory.Status.PUBLISHED)
        .prefetch_related("overrides")
        .first()
    )
    advisory = Advisory(country_id=country_code, author=author, based_on=current)
    if current is not None:
        for name in CONTENT_FIELDS:
            setattr(advisory, name, getattr(current, name))
    for name, value in fields.items():
        setattr(advisory, name, value)
    _require_notification_text(advisory)
    advisory.full_clean(exclude=["author", "country"], validate_constraints=False)
    advisory.save()
    if overrides is None and current is not None:
        overrides = [
            OverrideInput(o.region_id, o.level, o.note_en, o.note_fr)
            for o in current.overrides.all()
        ]
    _set_overrides(advisory, overrides or [])
    _record(advisory, action=Transition.Action.CREATE, from_status="", actor=author)
    return advisory


@transaction.atomic
def advisory_draft_update(
    *,
    advisory: Advisory,
    editor: User,
    fields: Mapping[str, Any] | None = None,
    overrides: Sequence[OverrideInput] | None = None,
) -> Advisory:
    """Edit a draft. Anything past draft is immutable: submitted versions go back to draft by
    rejection, published ones are replaced by a new draft."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
    _require_role(user=editor, country_code=advisory.country_id, role=EDITOR)
    if advisory.status != Advisory.Status.DRAFT:
        raise Conflict(
            _("Only drafts can be edited; this version is %(status)s. Start a new draft.")
            % {"status": advisory.get_status_display()},
            field="status",
            code="not_a_draft",
        )
    fields = dict(fields or {})
    _validate_fields(fields)
    if overrides is not None:
        _validate_overrides(country_code=advisory.country_id, overrides=overrides)
    for name, value in fields.items():
        setattr(advisory, name, value)
    _require_notification_text(advisory)
    advisory.full_clean(exclude=["author", "country"], validate_constraints=False)
    advisory.save()
    if overrides is not None:
        _set_overrides(advisory, overrides)
    _record(advisory, action=Transition.Action.EDIT, from_status=advisory.status, actor=editor)
    return advisory


@transaction.atomic
def advisory_submit(*, advisory: Advisory, submitted_by: User, comment: str = "") -> Advisory:
    """Hand a complete draft to the approvers."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
    _require_role(user=submitted_by, country_code=advisory.country_id, role=EDITOR)
    _require_status(advisory, Advisory.Status.DRAFT)
    for name in ("summary_en", "summary_fr"):
        if not getattr(advisory, name).strip():
            raise ValidationFailed(
                _("The summary is needed in English and French before submitting."), field=name
            )
    _require_notification_text(advisory)
    require_sms_fit(advisory=advisory)
    advisory.status = Advisory.Status.SUBMITTED
    advisory.submitted_by = submitted_by
    advisory.submitted_at = timezone.now()
    advisory.save(update_fields=["status", "submitted_by", "submitted_at", "updated_at"])
    _record(
        advisory,
        action=Transition.Action.SUBMIT,
        from_status=Advisory.Status.DRAFT,
        actor=submitted_by,
        comment=comment,
    )
    return advisory


def _contributors(advisory: Advisory) -> set[int]:
    ids: set[int | None] = set(
        advisory.transitions.filter(
            action__in=[Transition.Action.CREATE, Transition.Action.EDIT, Transition.Action.SUBMIT]
        ).values_list("actor_id", flat=True)
    )
    ids.update({advisory.author_id, advisory.submitted_by_id})
    return {user_id for user_id in ids if user_id is not None}


@transaction.atomic
def advisory_approve(
    *, advisory: Advisory, approved_by: User, comment: str = "", confirm_reach: bool = False
) -> Advisory:
    """Four eyes: an approver for the country who neither wrote, edited nor submitted this
    version approves it. It publishes now, or at `scheduled_for` when that is still ahead.
    A version that would tell nobody, or leave people whose advice changes untold, needs
    `confirm_reach` (see `review.require_confirmation`)."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
    _require_role(user=approved_by, country_code=advisory.country_id, role=APPROVER)
    _require_status(advisory, Advisory.Status.SUBMITTED)
    if approved_by.pk in _contributors(advisory):
        raise PermissionDenied(
            _("You wrote or edited this version: another approver must approve it."),
            code="four_eyes",
        )
    require_confirmation(advisory=advisory, confirmed=confirm_reach)
    now = timezone.now()
    advisory.status = Advisory.Status.SCHEDULED
    advisory.approved_by = approved_by
    advisory.approved_at = now
    advisory.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    _record(
        advisory,
        action=Transition.Action.APPROVE,
        from_status=Advisory.Status.SUBMITTED,
        actor=approved_by,
        comment=comment,
    )
    if advisory.scheduled_for is None or advisory.scheduled_for <= now:
        advisory = advisory_publish(advisory=advisory, published_by=approved_by)
    return advisory


@transaction.atomic
def advisory_publish(*, advisory: Advisory, published_by: User | System) -> Advisory:
    """Make an approved version the country's current one and supersede the previous.

    The effective level and regional note of every region before and after are compared; the
    level differences are recorded with the version. One `RiskLevelChanged`, with both kinds
    of difference and the version's choice of whom to tell, is published for after the
    commit when there is anyone to tell: a level changed, the editor chose the whole country,
    or the regions whose advice changed and some did. `published_by` is `SYSTEM` when the beat
    task publishes on schedule; a person publishing must be an approver for the country."""
    actor = published_by if isinstance(published_by, User) else None
    if actor is not None:
        _require_role(user=actor, country_code=advisory.country_id, role=APPROVER)
    # Locking the country row serialises publications for the country, including the first
    # one, when there is no current row to lock yet; the partial unique constraint backs it.
    # FOR NO KEY UPDATE: publications exclude each other, but the foreign-key checks of rows
    # written meanwhile (the previous publication's alert, naming the country and the version
    # superseded here) neither wait for it nor make it wait, which deadlocked.
    country_lock(code=advisory.country_id)
    advisory = Advisory.objects.select_for_update(no_key=True).get(pk=advisory.pk)
    _require_status(advisory, Advisory.Status.SCHEDULED)
    previous = _current_for_update(advisory.country_id)
    now = timezone.now()

    if previous is not None:
        previous.status = Advisory.Status.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
        _record(
            previous,
            action=Transition.Action.SUPERSEDE,
            from_status=Advisory.Status.PUBLISHED,
            actor=actor,
            comment=str(advisory.pk),
        )

    last_version = Advisory.objects.filter(country_id=advisory.country_id).aggregate(
        last=Max("version")
    )["last"]
    advisory.status = Advisory.Status.PUBLISHED
    advisory.version = (last_version or 0) + 1
    advisory.published_at = now
    advisory.supersedes = previous
    advisory.save(update_fields=["status", "version", "published_at", "supersedes", "updated_at"])
    _record(
        advisory,
        action=Transition.Action.PUBLISH,
        from_status=Advisory.Status.SCHEDULED,
        actor=actor,
    )

    plan = publication_plan_between(previous=previous, advisory=advisory)
    LevelChange.objects.bulk_create(
        LevelChange(
            advisory=advisory,
            region_id=change.region_code,
            old_level=change.old_level,
            new_level=change.new_level,
        )
        for change in plan.changes
    )
    if plan.event is not None:
        events.publish(plan.event)
    public_pages_changed(country_code=advisory.country_id)
    logger.info(
        "advisory %s published for %s: %d region level(s) and %d regional advice changed, "
        "telling %s",
        advisory.pk,
        advisory.country_id,
        len(plan.changes),
        len(plan.advice_changes),
        advisory.notify,
    )
    return advisory


@transaction.atomic
def advisory_reject(*, advisory: Advisory, rejected_by: User, reason: str) -> Advisory:
    """Send a submitted version back to draft, with the approver's reason for the editors."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
    _require_role(user=rejected_by, country_code=advisory.country_id, role=APPROVER)
    _require_status(advisory, Advisory.Status.SUBMITTED)
    if not reason.strip():
        raise ValidationFailed(_("Say why the version is rejected."), field="reason")
    advisory.status = Advisory.Status.DRAFT
    advisory.submitted_by = None
    advisory.submitted_at = None
    advisory.save(update_fields=["status", "submitted_by", "submitted_at", "updated_at"])
    _record(
        advisory,
        action=Transition.Action.REJECT,
        from_status=Advisory.Status.SUBMITTED,
        actor=rejected_by,
        comment=reason,
    )
    return advisory


@transaction.atomic
def advisory_withdraw(*, advisory: Advisory, withdrawn_by: User, reason: str = "") -> Advisory:
    """Abandon a draft or submitted version (editors), cancel a scheduled one, or withdraw the
    current advisory (approvers): the country then has no current advisory and its CAP feed
    says Cancel. No level event: withdrawing states no new level."""
    advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
    _require_status(
        advisory,
        Advisory.Status.DRAFT,
        Advisory.Status.SUBMITTED,
        Advisory.Status.SCHEDULED,
        Advisory.Status.PUBLISHED,
    )
    if advisory.status in (Advisory.Status.DRAFT, Advisory.Status.SUBMITTED):
        _require_role(user=withdrawn_by, country_code=advisory.country_id, role=EDITOR_OR_APPROVER)
    else:
        _require_role(user=withdrawn_by, country_code=advisory.country_id, role=APPROVER)
    if advisory.status == Advisory.Status.PUBLISHED and not reason.strip():
        raise ValidationFailed(_("Say why the current advisory is withdrawn."), field="reason")
    from_status = advisory.status
    advisory.status = Advisory.Status.WITHDRAWN
    advisory.withdrawn_at = timezone.now()
    advisory.save(update_fields=["status", "withdrawn_at", "updated_at"])
    _record(
        advisory,
        action=Transition.Action.WITHDRAW,
        from_status=from_status,
        actor=withdrawn_by,
        comment=reason,
    )
    if from_status == Advisory.Status.PUBLISHED:
        public_pages_changed(country_code=advisory.country_id)
    return advisory


def advisories_publish_due(*, now: datetime | None = None) -> list[str]:
    """Publish every approved version whose `scheduled_for` has come, oldest first, each in
    its own transaction. A version published meanwhile by another run is skipped, so running
    it twice publishes nothing twice. Returns the ids published."""
    now = now or timezone.now()
    due = Advisory.objects.filter(
        status=Advisory.Status.SCHEDULED, scheduled_for__lte=now
    ).order_by("scheduled_for", "created_at")
    published = []
    for advisory in due:
        try:
            advisory_publish(advisory=advisory, published_by=SYSTEM)
        except Conflict:
            continue
        published.append(str(advisory.pk))
    return published
