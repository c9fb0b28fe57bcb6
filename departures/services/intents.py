"""Intents to leave: a citizen states theirs for themselves and chosen household members; a
second submission updates the first (one row per citizen and operation, the database says
so). Staff may set a party's priority group by hand."""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import Action
from core.exceptions import Conflict, NotFound, ValidationFailed
from departures.models import DepartureOperation, Intent, Offer, PriorityGroup, Traveller
from departures.services.common import audit, require_staff
from regions.selectors import region_codes_of_country
from registrations.selectors import citizen_get, household_members_of_citizen

CHILD_UNDER_YEARS = 18
ELDERLY_FROM_YEARS = 65
NATIONALITY_MAX = 60
DOCUMENT_NUMBER_MAX = 40
DETAILS_MAX = 2000


@dataclass(frozen=True)
class TravellerFields:
    """One person leaving: the citizen (no household member) or one of their household."""

    household_member_id: uuid.UUID | None = None
    nationality: str = ""
    document_type: str = ""
    document_number: str = ""
    document_expiry: datetime.date | None = None


@dataclass(frozen=True)
class IntentFields:
    travellers: Sequence[TravellerFields]
    earliest_date: datetime.date
    region_code: str = ""
    needs_assistance: bool = False
    assistance_details: str = ""
    minors_alone: bool = False
    pregnant: bool = False


def _age_on(born: datetime.date | None, day: datetime.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _cleaned_travellers(
    *, citizen_id: uuid.UUID, travellers: Sequence[TravellerFields]
) -> tuple[list[TravellerFields], list[datetime.date | None]]:
    """The travellers as saved, with each one's date of birth from the register."""
    if not travellers:
        raise ValidationFailed(_("Say who is leaving."), field="travellers")
    members = {
        member.id: member.date_of_birth
        for member in household_members_of_citizen(citizen_id=citizen_id)
    }
    citizen = citizen_get(citizen_id=citizen_id)
    seen: set[uuid.UUID | None] = set()
    cleaned, births = [], []
    for traveller in travellers:
        member_id = traveller.household_member_id
        if member_id is not None and member_id not in members:
            raise ValidationFailed(
                _("Only the members of your own household can be named."), field="travellers"
            )
        if member_id in seen:
            raise ValidationFailed(_("Name each person once."), field="travellers")
        seen.add(member_id)
        if traveller.document_type not in ("", *Traveller.DocumentType.values):
            raise ValidationFailed(_("Choose a travel document."), field="document_type")
        nationality = traveller.nationality.strip()
        number = traveller.document_number.strip()
        if len(nationality) > NATIONALITY_MAX:
            raise ValidationFailed(
                _("At most %(max)d characters.") % {"max": NATIONALITY_MAX}, field="nationality"
            )
        if len(number) > DOCUMENT_NUMBER_MAX:
            raise ValidationFailed(
                _("At most %(max)d characters.") % {"max": DOCUMENT_NUMBER_MAX},
                field="document_number",
            )
        cleaned.append(
            TravellerFields(
                household_member_id=member_id,
                nationality=nationality,
                document_type=traveller.document_type,
                document_number=number,
                document_expiry=traveller.document_expiry,
            )
        )
        if member_id is None:
            births.append(citizen.date_of_birth if citizen is not None else None)
        else:
            births.append(members[member_id])
    return cleaned, births


def _region_id(*, operation: DepartureOperation, region_code: str) -> str | None:
    code = region_code.strip().upper()
    if not code:
        return None
    allowed = operation.region_codes or None
    if not code.startswith(f"{operation.country_id}-") or (
        allowed is not None and code not in allowed
    ):
        raise ValidationFailed(_("Choose a region this departure covers."), field="region")
    if code not in region_codes_of_country(country_code=operation.country_id):
        raise ValidationFailed(_("Choose a region this departure covers."), field="region")
    return code


def _travellers_key(rows: Sequence[tuple[uuid.UUID | None, bool]]) -> set[uuid.UUID | None]:
    return {member_id for member_id, _is_citizen in rows}


def intent_submit(
    *, citizen_id: uuid.UUID, operation: DepartureOperation, fields: IntentFields
) -> Intent:
    """The citizen's intent to leave with the operation, created or updated (never a second
    row: the unique constraint decides between two submissions at once). Who travels cannot
    change while the party holds a seat offer: its seats are counted on the option."""
    today = timezone.localdate()
    if fields.earliest_date < today:
        raise ValidationFailed(_("The earliest date cannot be in the past."), field="earliest_date")
    if len(fields.assistance_details.strip()) > DETAILS_MAX:
        raise ValidationFailed(
            _("At most %(max)d characters.") % {"max": DETAILS_MAX}, field="assistance_details"
        )
    travellers, births = _cleaned_travellers(citizen_id=citizen_id, travellers=fields.travellers)
    region_id = _region_id(operation=operation, region_code=fields.region_code)
    ages = [_age_on(born, today) for born in births]
    values = {
        "region_id": region_id,
        "earliest_date": fields.earliest_date,
        "people": len(travellers),
        "needs_assistance": fields.needs_assistance,
        "assistance_details": fields.assistance_details.strip() if fields.needs_assistance else "",
        "minors_alone": fields.minors_alone,
        "with_children": fields.minors_alone
        or any(age is not None and age < CHILD_UNDER_YEARS for age in ages),
        "elderly_or_pregnant": fields.pregnant
        or any(age is not None and age >= ELDERLY_FROM_YEARS for age in ages),
    }
    with transaction.atomic():
        # Read without a lock: submissions run side by side, and one that lands as the
        # operation starts closing is one more intent for the queue, no harm.
        operation = DepartureOperation.objects.get(id=operation.id)
        intent = (
            Intent.objects.select_for_update()
            .filter(operation=operation, citizen_id=citizen_id)
            .first()
        )
        if intent is None:
            if operation.status != DepartureOperation.Status.OPEN:
                raise Conflict(_("This departure takes no new requests."), field="operation")
            try:
                with transaction.atomic():
                    intent = Intent.objects.create(
                        operation=operation,
                        citizen_id=citizen_id,
                        submitted_at=timezone.now(),
                        **values,
                    )
                created = True
            except IntegrityError:
                # The same citizen's other submission won the race: update that one.
                intent = Intent.objects.select_for_update().get(
                    operation=operation, citizen_id=citizen_id
                )
                created = False
        else:
            created = False
        if not created:
            if operation.status not in (
                DepartureOperation.Status.OPEN,
                DepartureOperation.Status.CLOSING,
            ):
                raise Conflict(_("This departure is closed."), field="operation")
            current = _travellers_key(
                list(intent.travellers.values_list("household_member_id", "is_citizen"))
            )
            wanted = {traveller.household_member_id for traveller in travellers}
            if current != wanted and intent.offers.filter(state__in=Offer.LIVE_STATES).exists():
                raise Conflict(
                    _("You hold a seat offer: decline it before changing who travels."),
                    field="travellers",
                )
            for name, value in values.items():
                setattr(intent, name, value)
            intent.save()
            intent.travellers.all().delete()
        Traveller.objects.bulk_create(
            [
                Traveller(
                    intent=intent,
                    household_member_id=traveller.household_member_id,
                    is_citizen=traveller.household_member_id is None,
                    nationality=traveller.nationality,
                    document_type=traveller.document_type,
                    document_number=traveller.document_number,
                    document_expiry=traveller.document_expiry,
                )
                for traveller in travellers
            ]
        )
        audit(
            user=None,
            action=Action.CREATE if created else Action.CHANGE,
            obj=intent,
            step="intent_submit",
            operation=str(operation.id),
            people=intent.people,
        )
    return intent


def intent_priority_set(
    *, intent: Intent, set_by: User, group: int | None, reason: str = ""
) -> Intent:
    """Staff put a party in another priority group (or back to the computed one, with None),
    saying why; the next allocation run reads it."""
    if group is not None and group not in PriorityGroup.values:
        raise ValidationFailed(_("Choose a priority group."), field="priority")
    reason = reason.strip()
    if group is not None and not reason:
        raise ValidationFailed(_("Say why this party's priority changes."), field="reason")
    with transaction.atomic():
        try:
            intent = (
                Intent.objects.select_for_update(of=("self",))
                .select_related("operation")
                .get(id=intent.id)
            )
        except Intent.DoesNotExist:
            raise NotFound(_("No such intent.")) from None
        require_staff(user=set_by, country_code=intent.operation.country_id)
        intent.priority_override = group
        intent.override_reason = reason[:300] if group is not None else ""
        intent.save(update_fields=["priority_override", "override_reason", "updated_at"])
        audit(
            user=set_by,
            action=Action.CHANGE,
            obj=intent,
            step="priority",
            priority=group,
        )
    return intent
