"""`python -m bench --departures [--intents 20000] [--options 100]`: one allocation run of an
assisted departure on PostgreSQL, then a check over its result: no option overbooked, no
party split or offered seats for fewer people than it has, and the offers exactly those a
first-fit pass over the queue in priority order makes (replayed here, in Python, from the
intents' own flags). Prints one JSON line."""

import argparse
import datetime
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from accounts.demo import seed_posts_and_staff
from accounts.models import Membership, Post, User
from bench import measure, seed
from departures.models import DepartureOption, Intent, Offer
from departures.services import allocation, operations
from regions.services import geography_load
from registrations.models import Citizen

# Party sizes and how often they come: about 2.25 people per intent.
PARTY_SIZES = [1, 2, 3, 4, 5]
PARTY_WEIGHTS = [40, 20, 20, 15, 5]


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench --departures")
    parser.add_argument("--intents", type=int, default=20000)
    parser.add_argument("--options", type=int, default=100)
    return parser.parse_args(argv)


def _staff() -> tuple[User, User]:
    post, _created = Post.objects.get_or_create(
        code="bench-departures", defaults={"name": "Bench", "city": "Bamako"}
    )
    Post.countries.through.objects.get_or_create(post=post, country_id="ML")
    users = []
    for name in ("bench-departures-1", "bench-departures-2"):
        user, _created = User.objects.get_or_create(username=name)
        Membership.objects.get_or_create(user=user, post=post, role=Membership.Role.OFFICER)
        users.append(user)
    return users[0], users[1]


def _seed(*, intents: int, options: int) -> Any:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE departures_departureoperation CASCADE")
    seed.seed_register(size=intents)
    officer, second = _staff()
    operation = operations.operation_open(
        opened_by=officer,
        country_code="ML",
        fields=operations.OperationFields(eligibility_en="Nationals and their household."),
    )
    operations.operation_submit(operation=operation, submitted_by=officer)
    operations.operation_approve(operation=operation, approver=second)
    rng = random.Random(17)  # noqa: S311 - test data, not secrets
    citizen_ids = list(Citizen.objects.order_by("id").values_list("id", flat=True)[:intents])
    now = timezone.now()
    Intent.objects.bulk_create(
        [
            Intent(
                operation=operation,
                citizen_id=citizen_id,
                region_id=rng.choice(seed.MALI_REGIONS),
                earliest_date=timezone.localdate(),
                people=rng.choices(PARTY_SIZES, PARTY_WEIGHTS)[0],
                needs_assistance=rng.random() < 0.05,
                with_children=rng.random() < 0.25,
                elderly_or_pregnant=rng.random() < 0.10,
                submitted_at=now + datetime.timedelta(milliseconds=n),
            )
            for n, citizen_id in enumerate(citizen_ids)
        ],
        batch_size=5000,
    )
    people = Intent.objects.filter(operation=operation).aggregate(n=Sum("people"))["n"]
    # As many seats as people, in options of unequal sizes: big families meet full options.
    capacity = max(1, people // options)
    DepartureOption.objects.bulk_create(
        [
            DepartureOption(
                id=uuid.uuid4(),
                operation=operation,
                kind="flight",
                departs_at=now + datetime.timedelta(days=1, hours=n),
                place="Bamako-Sénou",
                assembly_point="Embassy",
                capacity=capacity + rng.randint(-capacity // 5, capacity // 5),
                booking_cutoff=now + datetime.timedelta(hours=12),
                created_by=officer,
            )
            for n in range(options)
        ]
    )
    return operation, officer


def _replayed(operation: Any) -> dict[uuid.UUID, uuid.UUID]:
    """The offers a first-fit pass over the queue makes, the queue ordered here from the flags
    (nobody's region is at level 4 and nobody has an override in this run)."""

    def group(row: Any) -> int:
        if row["needs_assistance"]:
            return 1
        if row["with_children"]:
            return 2
        if row["elderly_or_pregnant"]:
            return 3
        return 5

    rows = sorted(
        Intent.objects.filter(operation=operation).values(
            "id",
            "people",
            "earliest_date",
            "needs_assistance",
            "with_children",
            "elderly_or_pregnant",
            "submitted_at",
        ),
        key=lambda row: (group(row), row["submitted_at"], str(row["id"])),
    )
    seats = [
        allocation.Seats(
            option_id=option.id,
            free=option.capacity,
            departs_on=timezone.localdate(option.departs_at),
        )
        for option in DepartureOption.objects.filter(operation=operation).order_by(
            "departs_at", "created_at", "id"
        )
    ]
    parties = [
        allocation.Party(
            intent_id=row["id"], people=row["people"], earliest_date=row["earliest_date"]
        )
        for row in rows
    ]
    placed = allocation.first_fit(parties=parties, options=seats, offered_before=set())
    return {party.intent_id: option_id for _rank, party, option_id in placed}


def main(argv: Sequence[str]) -> None:
    options = _arguments(argv)
    measure.require_bench_database()
    geography_load(country_codes={"ML", "LB"})
    seed_posts_and_staff()
    seed.publish_mali(3, alerting=False)
    operation, officer = _seed(intents=options.intents, options=options.options)

    started = time.perf_counter()
    result = allocation.allocation_run(operation=operation, run_by=officer)
    elapsed = time.perf_counter() - started

    live = Offer.objects.filter(option__operation=operation, state__in=Offer.LIVE_STATES)
    held: dict[uuid.UUID, int] = defaultdict(int)
    for option_id, seats in live.values_list("option_id", "seats"):
        held[option_id] += seats
    overbooked = sum(
        1
        for option in DepartureOption.objects.filter(operation=operation)
        if held[option.id] > option.capacity or option.seats_taken != held[option.id]
    )
    offered = dict(live.values_list("intent_id", "option_id"))
    per_intent: dict[uuid.UUID, int] = defaultdict(int)
    for intent_id in live.values_list("intent_id", flat=True):
        per_intent[intent_id] += 1
    short = live.exclude(seats=F("intent__people")).count()
    families_split = sum(1 for count in per_intent.values() if count > 1) + short
    people = Intent.objects.filter(operation=operation).aggregate(n=Sum("people"))["n"]
    print(
        measure.dump(
            {
                "bench": "departures",
                "intents": options.intents,
                "people": people,
                "options": options.options,
                "seats": DepartureOption.objects.filter(operation=operation).aggregate(
                    n=Sum("capacity")
                )["n"],
                "offered_intents": result.offers,
                "offered_people": result.people,
                "allocation_s": round(elapsed, 3),
                "overbooked": overbooked,
                "families_split": families_split,
                "priority_order_kept": offered == _replayed(operation),
            }
        )
    )
