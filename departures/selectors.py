"""Reads of departures: the operations a staff member may see, the queue in priority order
(the one definition the allocation and the staff queue share), the board's counts, and a
citizen's own intent and offers."""

import uuid
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
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
    DepartureOperation,
    DepartureOption,
    Intent,
    Offer,
    PriorityGroup,
    Traveller,
)
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


def operation_board(*, operation: DepartureOperation) -> Board:
    """The operation at a glance, in a handful of aggregate queries."""
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
    by_region = {
        row["region_id"] or "": row["people"]
        for row in intents.order_by().values("region_id").annotate(people=Sum("people"))
    }
    seats = {
        (row["option_id"], row["state"]): row["seats"]
        for row in Offer.objects.filter(option__operation=operation, state__in=Offer.LIVE_STATES)
        .values("option_id", "state")
        .annotate(seats=Sum("seats"))
    }
    options = [
        OptionSeats(
            id=option.id,
            capacity=option.capacity,
            offered=seats.get((option.id, Offer.State.OFFERED), 0),
            accepted=seats.get((option.id, Offer.State.ACCEPTED), 0),
            cancelled=option.cancelled_at is not None,
        )
        for option in operation.options.all()
    ]
    return Board(
        intents=totals["n"],
        people=totals["people"],
        waiting_intents=sum(row["n"] for row in waiting_rows),
        waiting_people=sum(waiting.values()),
        offered_people=sum(option.offered for option in options),
        accepted_people=sum(option.accepted for option in options),
        by_priority=waiting,
        by_region=by_region,
        options=options,
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


def citizen_departure_export(citizen_id: uuid.UUID) -> personal_data.Sections:
    """The departures' sections of the citizen's export: intents, their travellers (with
    the travel documents), and the seat offers."""
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
    }
