"""Reads of departures: the operations a staff member may see, the queue in priority order
(the one definition the allocation and the staff queue share), the board's counts, and a
citizen's own intent and offers."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.selectors import REGISTER_ROLES, country_codes_of_user
from advisories.selectors import region_levels
from core import personal_data
from departures.models import (
    Boarding,
    DepartureOperation,
    DepartureOption,
    Intent,
    Offer,
    PriorityGroup,
    Traveller,
)
from regions.selectors import region_names
from registrations.selectors import presence_country_codes_of_citizen


def operations_for_staff(*, user: User) -> QuerySet[DepartureOperation]:
    """Operations in the countries the user's posts cover, for consular staff only (officers
    and post administrators): advisory editors and approvers see none."""
    return DepartureOperation.objects.filter(
        country_id__in=country_codes_of_user(user=user, roles=REGISTER_ROLES)
    ).select_related("created_by", "approved_by")


def options_for_staff(*, user: User) -> QuerySet[DepartureOption]:
    return DepartureOption.objects.filter(
        operation__country_id__in=country_codes_of_user(user=user, roles=REGISTER_ROLES)
    ).select_related("operation")


def intents_for_staff(*, user: User) -> QuerySet[Intent]:
    return Intent.objects.filter(
        operation__country_id__in=country_codes_of_user(user=user, roles=REGISTER_ROLES)
    ).select_related("operation")


def operation_live_for_country(*, country_code: str) -> DepartureOperation | None:
    """The operation citizens of a country can state an intent for (open, or closing for an
    update of one stated already)."""
    return (
        DepartureOperation.objects.filter(
            country_id=country_code.upper(),
            status__in=[DepartureOperation.Status.OPEN, DepartureOperation.Status.CLOSING],
        )
        .order_by("-created_at")
        .first()
    )


def operation_for_citizen(*, citizen_id: uuid.UUID) -> DepartureOperation | None:
    """The live operation a citizen deals with: the one they stated an intent for, else one of
    a country they are in (a presence not ended). One query, as the manage page asks it of
    everyone."""
    stated = Intent.objects.filter(operation_id=OuterRef("pk"), citizen_id=citizen_id)
    return (
        DepartureOperation.objects.filter(
            status__in=[DepartureOperation.Status.OPEN, DepartureOperation.Status.CLOSING]
        )
        .filter(
            Q(Exists(stated))
            | Q(country_id__in=presence_country_codes_of_citizen(citizen_id=citizen_id))
        )
        .annotate(stated=Exists(stated))
        .order_by("-stated", "-created_at")
        .first()
    )


def operations_live() -> QuerySet[DepartureOperation]:
    return DepartureOperation.objects.filter(
        status__in=[DepartureOperation.Status.OPEN, DepartureOperation.Status.CLOSING]
    )


def level_4_region_codes(*, country_code: str) -> list[str]:
    return sorted(
        code for code, level in region_levels(country_code=country_code).items() if level == 4
    )


def priority_expression(*, level_4_regions: list[str]) -> Coalesce:
    """A party's priority group: set by staff, else medical or mobility needs, then children,
    then the elderly and pregnant women, then people in a region at level 4, then everyone."""
    computed = Case(
        When(needs_assistance=True, then=Value(PriorityGroup.MEDICAL)),
        When(with_children=True, then=Value(PriorityGroup.CHILDREN)),
        When(elderly_or_pregnant=True, then=Value(PriorityGroup.ELDERLY_OR_PREGNANT)),
        When(region_id__in=level_4_regions, then=Value(PriorityGroup.LEVEL_4)),
        default=Value(PriorityGroup.OTHER),
        output_field=IntegerField(),
    )
    return Coalesce("priority_override", computed, output_field=IntegerField())


def queue_of_operation(*, operation: DepartureOperation) -> QuerySet[Intent]:
    """The parties waiting for a seat, first served first: annotated with `priority`, ordered
    by it and then by arrival. A party holding an offer (offered or accepted) is not waiting."""
    live = Offer.objects.filter(intent_id=OuterRef("pk"), state__in=Offer.LIVE_STATES)
    return (
        Intent.objects.filter(operation=operation, citizen__isnull=False)
        .annotate(
            priority=priority_expression(
                level_4_regions=level_4_region_codes(country_code=operation.country_id)
            ),
            holds_offer=Exists(live),
        )
        .filter(holds_offer=False)
        .order_by("priority", "submitted_at", "id")
    )


def queue_row(*, intent_id: uuid.UUID) -> Intent:
    """One party as the queue shows it, with its priority, whether it waits or not."""
    intent = Intent.objects.select_related("operation").get(id=intent_id)
    return (
        Intent.objects.filter(id=intent_id)
        .annotate(
            priority=priority_expression(
                level_4_regions=level_4_region_codes(country_code=intent.operation.country_id)
            )
        )
        .get()
    )


@dataclass(frozen=True)
class OptionSeats:
    id: uuid.UUID
    capacity: int
    offered: int
    accepted: int
    cancelled: bool
    boarded: int = 0
    present: int = 0
    no_show: int = 0


@dataclass(frozen=True)
class Figures:
    """One line of the board: requests and people, and where the people are (offered seats,
    confirmed seats, boarded, waiting in the queue); keyed by a region's code or a priority
    group, with its name."""

    key: str
    name: str
    intents: int
    people: int
    offered: int
    accepted: int
    boarded: int
    waiting: int


@dataclass(frozen=True)
class Board:
    intents: int
    people: int
    waiting_intents: int
    waiting_people: int
    offered_people: int
    accepted_people: int
    by_priority: dict[int, int]  # people waiting per priority group
    by_region: dict[str, int]  # people who stated an intent, per region ("" for none given)
    options: list[OptionSeats]
    boarded_people: int = 0
    arrived_people: int = 0
    regions: list[Figures] = field(default_factory=list)
    priorities: list[Figures] = field(default_factory=list)


def _figures(rows: QuerySet[Intent], key: str) -> list[dict[str, Any]]:
    """The board's counts of the intents grouped by `key`, in one query: each party's live
    offer's state and the people of it who boarded come from subqueries."""
    live = Offer.objects.filter(intent_id=OuterRef("pk"), state__in=Offer.LIVE_STATES)
    boarded = (
        Boarding.objects.filter(offer__intent_id=OuterRef("pk"), state=Boarding.State.BOARDED)
        .order_by()
        .values("offer__intent_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    annotated = rows.annotate(
        offer_state=Subquery(live.values("state")[:1]),
        boarded=Coalesce(Subquery(boarded, output_field=IntegerField()), 0),
    )

    def people_when(**condition: Any) -> Sum:
        return Sum(Case(When(then="people", **condition), default=Value(0)))

    return list(
        annotated.order_by()
        .values(key)
        .annotate(
            n=Count("id"),
            total=Sum("people"),
            offered=people_when(offer_state=Offer.State.OFFERED),
            accepted=people_when(offer_state=Offer.State.ACCEPTED),
            waiting=people_when(offer_state__isnull=True, citizen__isnull=False),
            boarded_people=Sum("boarded"),
        )
        .order_by(key)
    )


def _figure(row: dict[str, Any], *, key: str, name: str) -> Figures:
    return Figures(
        key=key,
        name=name,
        intents=row["n"],
        people=row["total"] or 0,
        offered=row["offered"] or 0,
        accepted=row["accepted"] or 0,
        boarded=row["boarded_people"] or 0,
        waiting=row["waiting"] or 0,
    )


def operation_board(*, operation: DepartureOperation) -> Board:
    """The operation at a glance, in a handful of aggregate queries: totals, the same figures
    by region (named in the active language) and by priority group, and the seats of each
    option with who holds them and who boarded."""
    intents = Intent.objects.filter(operation=operation)
    totals = intents.aggregate(n=Count("id"), people=Coalesce(Sum("people"), 0))
    queue = queue_of_operation(operation=operation)
    waiting_rows = list(
        # `priority` is the queue's annotation, which the type checker cannot follow here.
        queue.order_by()
        .values("priority")  # type: ignore[misc]
        .annotate(n=Count("id"), people=Sum("people"))
    )
    waiting = {row["priority"]: row["people"] for row in waiting_rows}
    region_rows = _figures(intents, "region_id")
    names = region_names(codes=[row["region_id"] for row in region_rows if row["region_id"]])
    regions = [
        _figure(
            row,
            key=row["region_id"] or "",
            name=names.get(row["region_id"], row["region_id"] or ""),
        )
        for row in region_rows
    ]
    groups = dict(PriorityGroup.choices)
    prioritised = intents.annotate(
        priority=priority_expression(
            level_4_regions=level_4_region_codes(country_code=operation.country_id)
        )
    )
    priorities = [
        _figure(row, key=str(row["priority"]), name=str(groups[row["priority"]]))
        for row in _figures(prioritised, "priority")
    ]
    seats = {
        (row["option_id"], row["state"]): row["seats"]
        for row in Offer.objects.filter(option__operation=operation, state__in=Offer.LIVE_STATES)
        .values("option_id", "state")
        .annotate(seats=Sum("seats"))
    }
    marked = {
        (row["offer__option_id"], row["state"]): row["n"]
        for row in Boarding.objects.filter(
            offer__option__operation=operation, offer__state=Offer.State.ACCEPTED
        )
        .values("offer__option_id", "state")
        .annotate(n=Count("id"))
    }
    options = [
        OptionSeats(
            id=option.id,
            capacity=option.capacity,
            offered=seats.get((option.id, Offer.State.OFFERED), 0),
            accepted=seats.get((option.id, Offer.State.ACCEPTED), 0),
            cancelled=option.cancelled_at is not None,
            boarded=marked.get((option.id, Boarding.State.BOARDED), 0),
            present=marked.get((option.id, Boarding.State.PRESENT), 0),
            no_show=marked.get((option.id, Boarding.State.NO_SHOW), 0),
        )
        for option in operation.options.all()
    ]
    arrived = Offer.objects.filter(option__operation=operation, arrived_at__isnull=False).aggregate(
        people=Coalesce(Sum("seats"), 0)
    )["people"]
    return Board(
        intents=totals["n"],
        people=totals["people"],
        waiting_intents=sum(row["n"] for row in waiting_rows),
        waiting_people=sum(waiting.values()),
        offered_people=sum(option.offered for option in options),
        accepted_people=sum(option.accepted for option in options),
        by_priority=waiting,
        by_region={figure.key: figure.people for figure in regions},
        options=options,
        boarded_people=sum(option.boarded for option in options),
        arrived_people=arrived,
        regions=regions,
        priorities=priorities,
    )


def intent_of_citizen(*, citizen_id: uuid.UUID, operation: DepartureOperation) -> Intent | None:
    return (
        Intent.objects.filter(operation=operation, citizen_id=citizen_id)
        .prefetch_related("travellers")
        .first()
    )


def offers_of_citizen(*, citizen_id: uuid.UUID) -> QuerySet[Offer]:
    """The citizen's offers, newest first, with their option (what the manage page and the API
    show: where, when, by when to answer)."""
    return (
        Offer.objects.filter(intent__citizen_id=citizen_id)
        .select_related("option", "option__operation")
        .order_by("-created_at")
    )


def offer_boarded(*, offer: Offer) -> bool:
    return offer.boardings.filter(state=Boarding.State.BOARDED).exists()


def citizen_departure_export(citizen_id: uuid.UUID) -> personal_data.Sections:
    """The departures' sections of the citizen's export: intents, their travellers (with
    the travel documents), the seat offers and the boardings at the assembly point."""
    intents = list(Intent.objects.filter(citizen_id=citizen_id).order_by("submitted_at"))
    ids = [intent.id for intent in intents]
    return {
        "departure_intents": [
            personal_data.as_row(intent, exclude={"citizen"}) for intent in intents
        ],
        "departure_travellers": [
            personal_data.as_row(traveller)
            for traveller in Traveller.objects.filter(intent_id__in=ids).order_by(
                "intent_id", "created_at"
            )
        ],
        "departure_offers": [
            personal_data.as_row(offer)
            for offer in Offer.objects.filter(intent_id__in=ids).order_by("created_at")
        ],
        "departure_boardings": [
            personal_data.as_row(boarding, exclude={"marked_by"})
            for boarding in Boarding.objects.filter(offer__intent_id__in=ids).order_by("created_at")
        ],
    }
