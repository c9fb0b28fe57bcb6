"""Answers to seat offers: ACCEPT or DECLINE by the citizen before the deadline, the expiry
that gives unanswered seats back, and the seat staff give one party by hand.

Lock order, everywhere: the option's row, then the offers' rows. A seat count only moves
under the option's lock, and PostgreSQL's CHECK on the option refuses an overbooking."""

import uuid
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import Action
from core.exceptions import Conflict, NotFound
from departures.models import DepartureOption, Intent, Offer
from departures.services import messages
from departures.services.allocation import DEFAULT_ANSWER_WITHIN
from departures.services.common import audit, require_staff
from departures.services.options import option_locked


def _offer_of_citizen(*, offer_id: uuid.UUID | str, citizen_id: uuid.UUID) -> Offer:
    """The citizen's offer locked, after its option: someone who was never offered it is told
    so, whoever's offer the id names."""
    try:
        offer_key = uuid.UUID(str(offer_id))
    except ValueError:
        raise NotFound(_("No seat was offered to you on this departure."), field="offer") from None
    option_id = (
        Offer.objects.filter(id=offer_key, intent__citizen_id=citizen_id)
        .values_list("option_id", flat=True)
        .first()
    )
    if option_id is None:
        raise NotFound(_("No seat was offered to you on this departure."), field="offer")
    option_locked(option_id)
    return Offer.objects.select_for_update().get(id=offer_key)


def offer_accept(*, offer_id: uuid.UUID | str, citizen_id: uuid.UUID) -> Offer:
    """The citizen takes the seats offered to their party. Accepting twice is harmless;
    accepting after the deadline, or an offer declined, expired or withdrawn, is refused."""
    with transaction.atomic():
        offer = _offer_of_citizen(offer_id=offer_id, citizen_id=citizen_id)
        if offer.state == Offer.State.ACCEPTED:
            return offer
        if offer.state != Offer.State.OFFERED:
            raise Conflict(_("This seat offer is no longer open."), field="offer", code="closed")
        if offer.deadline <= timezone.now():
            raise Conflict(
                _("The time to answer this seat offer has passed."), field="offer", code="expired"
            )
        offer.state, offer.answered_at = Offer.State.ACCEPTED, timezone.now()
        offer.save(update_fields=["state", "answered_at", "updated_at"])
        audit(user=None, action=Action.CHANGE, obj=offer, step="offer_accept")
    return offer


def offer_decline(*, offer_id: uuid.UUID | str, citizen_id: uuid.UUID) -> Offer:
    """The citizen gives the seats back (an accepted offer too: plans change); the party
    returns to the queue, keeping its place, and will not be offered this option again."""
    with transaction.atomic():
        offer = _offer_of_citizen(offer_id=offer_id, citizen_id=citizen_id)
        if offer.state == Offer.State.DECLINED:
            return offer
        if offer.state not in Offer.LIVE_STATES:
            raise Conflict(_("This seat offer is no longer open."), field="offer", code="closed")
        if offer.boardings.filter(state="boarded").exists():
            raise Conflict(_("Your party has boarded already."), field="offer", code="boarded")
        offer.state, offer.answered_at = Offer.State.DECLINED, timezone.now()
        offer.save(update_fields=["state", "answered_at", "updated_at"])
        DepartureOption.objects.filter(id=offer.option_id).update(
            seats_taken=F("seats_taken") - offer.seats, updated_at=timezone.now()
        )
        audit(user=None, action=Action.CHANGE, obj=offer, step="offer_decline")
    return offer


def offers_expire() -> int:
    """Every offer past its deadline and unanswered expires, and its seats go back to its
    option for the next run. Set-based; a second run finds nothing (idempotent)."""
    now = timezone.now()
    with transaction.atomic():
        option_ids = sorted(
            set(
                Offer.objects.filter(state=Offer.State.OFFERED, deadline__lte=now).values_list(
                    "option_id", flat=True
                )
            )
        )
        if not option_ids:
            return 0
        list(
            DepartureOption.objects.select_for_update()
            .filter(id__in=option_ids)
            .order_by("id")
            .values_list("id", flat=True)
        )
        expired = list(
            Offer.objects.select_for_update()
            .filter(option_id__in=option_ids, state=Offer.State.OFFERED, deadline__lte=now)
            .values_list("id", "option_id", "seats")
        )
        seats: dict[uuid.UUID, int] = defaultdict(int)
        for _id, option_id, count in expired:
            seats[option_id] += count
        Offer.objects.filter(id__in=[row[0] for row in expired]).update(
            state=Offer.State.EXPIRED, answered_at=now, updated_at=now
        )
        for option_id, count in seats.items():
            DepartureOption.objects.filter(id=option_id).update(
                seats_taken=F("seats_taken") - count, updated_at=now
            )
    return len(expired)


def offer_make(*, intent: Intent, option: DepartureOption, made_by: User) -> Offer:
    """Staff offer one waiting party seats on an option by hand (a walk-in at the assembly
    point, a party the run passed over). The seats are taken by raising the option's counter
    in the database: when they are not there, the CHECK refuses and the caller is told the
    option is full, however many officers try at once."""
    with transaction.atomic():
        option = option_locked(option.id)
        require_staff(user=made_by, country_code=option.operation.country_id)
        intent = Intent.objects.select_for_update().get(id=intent.id)
        if intent.operation_id != option.operation_id or intent.citizen_id is None:
            raise NotFound(_("No such intent in this operation."), field="intent")
        if option.cancelled_at is not None or option.booking_cutoff <= timezone.now():
            raise Conflict(_("This option is closed for booking."), field="option")
        try:
            with transaction.atomic():
                DepartureOption.objects.filter(id=option.id).update(
                    seats_taken=F("seats_taken") + intent.people, updated_at=timezone.now()
                )
        except IntegrityError:
            raise Conflict(_("This option is full."), field="option", code="full") from None
        announcement_id = uuid.uuid4()
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    intent=intent,
                    option=option,
                    seats=intent.people,
                    deadline=min(timezone.now() + DEFAULT_ANSWER_WITHIN, option.booking_cutoff),
                    reference=messages.offer_reference(
                        announcement_id=announcement_id, citizen_id=intent.citizen_id
                    ),
                )
        except IntegrityError:
            raise Conflict(
                _("This party holds a seat offer already, or was offered this option before."),
                field="intent",
            ) from None
        if intent.citizen_id is not None:
            messages.offers_announce(
                option=option,
                citizen_ids=[intent.citizen_id],
                deadline=offer.deadline,
                sent_by=made_by,
                announcement_id=announcement_id,
            )
        audit(user=made_by, action=Action.CREATE, obj=offer, step="offer_make")
    return offer
