"""The allocation run: the queue, in priority order, fills the options in the order they
leave, a whole party to one option (families are never split), as seat offers to answer by a
deadline.

One run at a time per operation (the operation's row lock); the options' rows are locked for
the run and their `seats_taken` counters raised in the same transaction, under the CHECK
that refuses an overbooking. Each option's offers go out as one message through the ledger,
written in the same transaction (its fan-out is enqueued after the commit).

The greedy pass is first fit: each party, in queue order, takes the first option that leaves
on or after its earliest date, has room for all of it, and was not offered to it before; a
party too big for what is left waits for the next option or run.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.audit import Action
from core.exceptions import Conflict
from departures.models import DepartureOperation, DepartureOption, Offer
from departures.selectors import queue_of_operation
from departures.services import messages
from departures.services.common import audit, require_staff

DEFAULT_ANSWER_WITHIN = datetime.timedelta(hours=6)
INSERT_BATCH = 5000


@dataclass(frozen=True)
class Party:
    intent_id: uuid.UUID
    people: int
    earliest_date: datetime.date
    citizen_id: uuid.UUID | None = None


@dataclass
class Seats:
    option_id: uuid.UUID
    free: int
    departs_on: datetime.date


@dataclass(frozen=True)
class AllocationResult:
    offers: int
    people: int
    options: int


def first_fit(
    *,
    parties: list[Party],
    options: list[Seats],
    offered_before: set[tuple[uuid.UUID, uuid.UUID]],
) -> list[tuple[int, Party, uuid.UUID]]:
    """(rank, party, option id) for every party that gets seats; `options` in departure order,
    their `free` counts consumed. Pure, so the benchmark checks a run against it."""
    placed: list[tuple[int, Party, uuid.UUID]] = []
    open_options = [option for option in options if option.free > 0]
    for rank, party in enumerate(parties):
        if not open_options:
            break
        for option in open_options:
            if (
                option.free >= party.people
                and option.departs_on >= party.earliest_date
                and (party.intent_id, option.option_id) not in offered_before
            ):
                option.free -= party.people
                placed.append((rank, party, option.option_id))
                if option.free == 0:
                    open_options.remove(option)
                break
    return placed


def allocation_run(
    *,
    operation: DepartureOperation,
    run_by: User,
    answer_within: datetime.timedelta = DEFAULT_ANSWER_WITHIN,
) -> AllocationResult:
    """Offer the free seats of the operation's bookable options to the queue, in priority
    order. Each offer is answered by `answer_within` from now, or by the option's booking
    cut-off if that comes first."""
    require_staff(user=run_by, country_code=operation.country_id)
    now = timezone.now()
    with transaction.atomic():
        operation = DepartureOperation.objects.select_for_update().get(id=operation.id)
        if operation.status not in (
            DepartureOperation.Status.OPEN,
            DepartureOperation.Status.CLOSING,
        ):
            raise Conflict(_("Seats are offered in an open operation only."), field="status")
        locked = list(
            DepartureOption.objects.select_for_update()
            .filter(
                operation=operation,
                cancelled_at__isnull=True,
                booking_cutoff__gt=now,
                seats_taken__lt=F("capacity"),
            )
            .order_by("departs_at", "created_at", "id")
        )
        options = [
            Seats(
                option_id=option.id,
                free=option.capacity - option.seats_taken,
                departs_on=timezone.localdate(option.departs_at),
            )
            for option in locked
        ]
        parties = [
            Party(intent_id=row[0], people=row[1], earliest_date=row[2], citizen_id=row[3])
            for row in queue_of_operation(operation=operation).values_list(
                "id", "people", "earliest_date", "citizen_id"
            )
        ]
        offered_before = set(
            Offer.objects.filter(option__in=locked).values_list("intent_id", "option_id")
        )
        placed = first_fit(parties=parties, options=options, offered_before=offered_before)
        deadlines = {
            option.id: min(now + answer_within, option.booking_cutoff) for option in locked
        }
        # Each option's message, drawn now: each offer stores the reference it will carry.
        announcements = {option.id: uuid.uuid4() for option in locked}
        Offer.objects.bulk_create(
            [
                Offer(
                    intent_id=party.intent_id,
                    option_id=option_id,
                    seats=party.people,
                    rank=rank,
                    deadline=deadlines[option_id],
                    reference=messages.offer_reference(
                        announcement_id=announcements[option_id], citizen_id=party.citizen_id
                    ),
                )
                for rank, party, option_id in placed
            ],
            batch_size=INSERT_BATCH,
        )
        taken: dict[uuid.UUID, int] = defaultdict(int)
        told: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for _rank, party, option_id in placed:
            taken[option_id] += party.people
            if party.citizen_id is not None:
                told[option_id].append(party.citizen_id)
        for option_id, seats in taken.items():
            DepartureOption.objects.filter(id=option_id).update(
                seats_taken=F("seats_taken") + seats, updated_at=now
            )
        for option in locked:
            option.operation = operation
            messages.offers_announce(
                option=option,
                citizen_ids=told[option.id],
                deadline=deadlines[option.id],
                sent_by=run_by,
                announcement_id=announcements[option.id],
            )
        result = AllocationResult(
            offers=len(placed), people=sum(taken.values()), options=len(taken)
        )
        audit(
            user=run_by,
            action=Action.CHANGE,
            obj=operation,
            step="allocation_run",
            offers=result.offers,
            people=result.people,
            options=result.options,
        )
    return result
