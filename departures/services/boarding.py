"""The assembly point: staff check in the people of accepted offers (present, boarded or
no-show), and the citizen says they arrived.

Boarding the citizen is their "I have left": every presence of theirs in the country ends
today (registrations' own check-out, so alerts stop reaching them there). Household members
have no presence of their own: their boarding row is their record of leaving."""

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_has_role
from core.audit import Action
from core.exceptions import Conflict, NotFound, ValidationFailed
from departures.models import Boarding, DepartureOption, Offer
from departures.services.common import STAFF_ROLES, audit
from registrations.selectors import citizen_get, presences_of_citizen
from registrations.services import presence_check_out

State = Boarding.State


def _require_staff_of_country(*, user: User, country_code: str) -> None:
    """Boarding names people: for anyone but the consular staff of a post covering the
    country (advisory editors and approvers included), the option does not exist."""
    if not user_has_role(user=user, roles=STAFF_ROLES, country_code=country_code):
        raise NotFound(_("No such departure option."), field="option")


def _moves(current: str | None, wanted: str) -> bool:
    """Whether the mark changes anything; refuses what cannot be undone."""
    if current == wanted:
        return False
    if current == State.BOARDED:
        raise Conflict(
            _("This person has boarded already: that cannot be changed."),
            field="state",
            code="boarded",
        )
    return True


def boarding_mark(
    *, option: DepartureOption, traveller_id: uuid.UUID | str, state: str, marked_by: User
) -> Boarding:
    """Mark one person of an accepted offer on the option present, boarded or no-show.

    Under the offer's row lock, so two officers marking the same person at once write one
    row (the unique constraint on offer and traveller says so too); marking again the same
    state changes nothing. Someone who holds no accepted seat on the option is refused with
    nothing written."""
    if state not in State.values:
        raise ValidationFailed(_("Choose present, boarded or no-show."), field="state")
    country_code = option.operation.country_id
    _require_staff_of_country(user=marked_by, country_code=country_code)
    no_seat = Conflict(
        _("This person holds no confirmed seat on this departure."),
        field="traveller",
        code="no_seat",
    )
    try:
        traveller_key = uuid.UUID(str(traveller_id))
    except ValueError:
        raise no_seat from None
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("intent")
            .filter(
                option_id=option.id,
                state=Offer.State.ACCEPTED,
                intent__travellers__id=traveller_key,
            )
            .first()
        )
        if offer is None:
            raise no_seat
        boarding = Boarding.objects.filter(offer=offer, traveller_id=traveller_key).first()
        if not _moves(boarding.state if boarding else None, state):
            assert boarding is not None  # noqa: S101 - no move means a row in that state
            return boarding
        now = timezone.now()
        if boarding is None:
            boarding = Boarding(offer=offer, traveller_id=traveller_key)
        boarding.state, boarding.marked_by = state, marked_by
        if state in (State.PRESENT, State.BOARDED) and boarding.present_at is None:
            boarding.present_at = now
        if state == State.BOARDED:
            boarding.boarded_at = now
        boarding.save()
        ended = 0
        if state == State.BOARDED:
            ended = _presence_end(
                boarding=boarding, citizen_id=offer.intent.citizen_id, country_code=country_code
            )
        audit(
            user=marked_by,
            action=Action.CHANGE,
            obj=boarding,
            step=f"boarding_{state}",
            option=str(option.id),
            presences_ended=ended,
        )
    return boarding


def _presence_end(*, boarding: Boarding, citizen_id: uuid.UUID | None, country_code: str) -> int:
    """The citizen's "I have left" when the citizen themselves boards: each of their
    presences in the country ends today (one not begun yet is removed)."""
    if citizen_id is None or not boarding.traveller.is_citizen:
        return 0
    citizen = citizen_get(citizen_id=citizen_id)
    if citizen is None:
        return 0
    today = timezone.localdate()
    ended = 0
    for presence in presences_of_citizen(citizen=citizen).filter(country_id=country_code):
        if presence.end_date is None or presence.end_date > today:
            presence_check_out(citizen=citizen, presence_id=presence.id, on_date=today)
            ended += 1
    return ended


def offer_arrived(*, offer_id: uuid.UUID | str, citizen_id: uuid.UUID) -> Offer:
    """ "I have arrived": the citizen closes the loop once their party boarded. Saying it
    twice keeps the first time; before boarding it is refused."""
    try:
        offer_key = uuid.UUID(str(offer_id))
    except ValueError:
        raise NotFound(_("No seat was offered to you on this departure."), field="offer") from None
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update()
            .filter(id=offer_key, intent__citizen_id=citizen_id)
            .first()
        )
        if offer is None:
            raise NotFound(_("No seat was offered to you on this departure."), field="offer")
        if offer.arrived_at is not None:
            return offer
        if not offer.boardings.filter(state=State.BOARDED).exists():
            raise Conflict(
                _("Nobody of your party has boarded yet."), field="offer", code="not_boarded"
            )
        offer.arrived_at = timezone.now()
        offer.save(update_fields=["arrived_at", "updated_at"])
        audit(user=None, action=Action.CHANGE, obj=offer, step="arrived")
    return offer
