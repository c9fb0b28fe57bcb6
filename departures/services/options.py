"""Departure options: the flights, charters and convoys, their seats, a change of capacity
and a cancellation. Every change of seats happens under the option's row lock, and the
option's CHECK constraint refuses an overbooking whatever happens above it."""

import datetime
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import Action
from core.exceptions import Conflict, ValidationFailed
from departures.models import TEXT_MAX, DepartureOperation, DepartureOption, Offer
from departures.services import messages
from departures.services.common import audit, require_staff

CANCELLED_REASON = "option_cancelled"
CAPACITY_REASON = "capacity_reduced"


@dataclass(frozen=True)
class OptionFields:
    kind: str
    departs_at: datetime.datetime
    place: str
    assembly_point: str
    capacity: int
    booking_cutoff: datetime.datetime
    notes: str = ""


def _cleaned(fields: OptionFields) -> OptionFields:
    if fields.kind not in DepartureOption.Kind.values:
        raise ValidationFailed(_("Choose a flight, a charter or a convoy."), field="kind")
    now = timezone.now()
    if fields.departs_at <= now:
        raise ValidationFailed(_("The departure must be in the future."), field="departs_at")
    if fields.booking_cutoff > fields.departs_at:
        raise ValidationFailed(
            _("The booking cut-off must come before the departure."), field="booking_cutoff"
        )
    if fields.booking_cutoff <= now:
        raise ValidationFailed(
            _("The booking cut-off must be in the future."), field="booking_cutoff"
        )
    if fields.capacity < 1:
        raise ValidationFailed(_("An option has one seat at least."), field="capacity")
    for name, limit in (("place", 200), ("assembly_point", 300), ("notes", TEXT_MAX)):
        if len(getattr(fields, name).strip()) > limit:
            raise ValidationFailed(_("At most %(max)d characters.") % {"max": limit}, field=name)
    if not fields.place.strip():
        raise ValidationFailed(_("Say where it leaves from."), field="place")
    if not fields.assembly_point.strip():
        raise ValidationFailed(_("Say where the passengers gather."), field="assembly_point")
    return OptionFields(
        kind=fields.kind,
        departs_at=fields.departs_at,
        place=fields.place.strip(),
        assembly_point=fields.assembly_point.strip(),
        capacity=fields.capacity,
        booking_cutoff=fields.booking_cutoff,
        notes=fields.notes.strip(),
    )


def option_locked(option_id: uuid.UUID) -> DepartureOption:
    return (
        DepartureOption.objects.select_for_update(of=("self",))
        .select_related("operation")
        .get(id=option_id)
    )


def option_add(
    *, operation: DepartureOperation, added_by: User, fields: OptionFields
) -> DepartureOption:
    """A new option of an open operation; its seats go out at the next allocation run."""
    require_staff(user=added_by, country_code=operation.country_id)
    cleaned = _cleaned(fields)
    with transaction.atomic():
        operation = DepartureOperation.objects.select_for_update().get(id=operation.id)
        if operation.status != DepartureOperation.Status.OPEN:
            raise Conflict(_("Options are added to an open operation."), field="status")
        option = DepartureOption.objects.create(
            operation=operation,
            kind=cleaned.kind,
            departs_at=cleaned.departs_at,
            place=cleaned.place,
            assembly_point=cleaned.assembly_point,
            capacity=cleaned.capacity,
            booking_cutoff=cleaned.booking_cutoff,
            notes=cleaned.notes,
            created_by=added_by,
        )
        audit(
            user=added_by,
            action=Action.CREATE,
            obj=option,
            step="option_add",
            operation=str(operation.id),
            capacity=option.capacity,
        )
    return option


def _seats_accepted(option: DepartureOption) -> int:
    accepted = option.offers.filter(state=Offer.State.ACCEPTED).aggregate(n=Sum("seats"))["n"]
    return int(accepted or 0)


def option_change_capacity(
    *, option: DepartureOption, changed_by: User, capacity: int
) -> DepartureOption:
    """A bigger aircraft, or a smaller one. Never below the seats already accepted; seats only
    offered beyond the new capacity are withdrawn, the last offered first, and those parties
    go back to the queue."""
    if capacity < 1:
        raise ValidationFailed(_("An option has one seat at least."), field="capacity")
    with transaction.atomic():
        option = option_locked(option.id)
        require_staff(user=changed_by, country_code=option.operation.country_id)
        if option.cancelled_at is not None:
            raise Conflict(_("This option is cancelled."), field="cancelled")
        accepted = _seats_accepted(option)
        if capacity < accepted:
            raise ValidationFailed(
                _("%(n)d seats are already accepted: the capacity cannot be lower.")
                % {"n": accepted},
                field="capacity",
            )
        withdrawn = 0
        if capacity < option.seats_taken:
            over = option.seats_taken - capacity
            now = timezone.now()
            told: list[uuid.UUID] = []
            for offer in (
                option.offers.select_for_update(of=("self",))
                .select_related("intent")
                .filter(state=Offer.State.OFFERED)
                .order_by("-rank", "-created_at")
            ):
                if over <= 0:
                    break
                offer.state, offer.answered_at = Offer.State.WITHDRAWN, now
                offer.withdrawn_reason = CAPACITY_REASON
                offer.save(update_fields=["state", "answered_at", "withdrawn_reason", "updated_at"])
                option.seats_taken -= offer.seats
                over -= offer.seats
                withdrawn += 1
                if offer.intent.citizen_id is not None:
                    told.append(offer.intent.citizen_id)
            messages.withdrawals_announce(
                option=option, citizen_ids=told, reason=CAPACITY_REASON, sent_by=changed_by
            )
        previous, option.capacity = option.capacity, capacity
        option.save(update_fields=["capacity", "seats_taken", "updated_at"])
        audit(
            user=changed_by,
            action=Action.CHANGE,
            obj=option,
            step="option_capacity",
            previous=previous,
            capacity=capacity,
            withdrawn=withdrawn,
        )
    return option


def option_cancel(*, option: DepartureOption, cancelled_by: User, reason: str) -> DepartureOption:
    """The option will not go: every offer on it, accepted or not, is withdrawn and its party
    goes back to the queue, keeping its place; the reason is what they will be told."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the option is cancelled."), field="reason")
    with transaction.atomic():
        option = option_locked(option.id)
        require_staff(user=cancelled_by, country_code=option.operation.country_id)
        if option.cancelled_at is not None:
            raise Conflict(_("This option is cancelled already."), field="cancelled")
        now = timezone.now()
        live = option.offers.filter(state__in=Offer.LIVE_STATES)
        told = [
            citizen_id
            for citizen_id in live.values_list("intent__citizen_id", flat=True)
            if citizen_id is not None
        ]
        withdrawn = live.update(
            state=Offer.State.WITHDRAWN,
            answered_at=now,
            withdrawn_reason=CANCELLED_REASON,
            updated_at=now,
        )
        option.cancelled_at, option.cancel_reason = now, reason[:300]
        option.seats_taken = 0
        option.save(update_fields=["cancelled_at", "cancel_reason", "seats_taken", "updated_at"])
        messages.withdrawals_announce(
            option=option, citizen_ids=told, reason=CANCELLED_REASON, sent_by=cancelled_by
        )
        audit(
            user=cancelled_by,
            action=Action.CHANGE,
            obj=option,
            step="option_cancel",
            withdrawn=withdrawn,
        )
    return option
