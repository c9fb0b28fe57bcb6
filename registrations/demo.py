"""Demo register: a few hundred fictitious citizens in Mali and Lebanon, with households,
residences and trips, so a fresh `make run` shows a living register.

Rows get deterministic ids (uuid5 of their number) and are inserted with ignore_conflicts, so
seeding twice changes nothing. Emails are @example.org; phone numbers come from the +223 70 00
and +961 3 000 blocks, reserved here for demonstration.
"""

import datetime
import random
import uuid

from django.db import transaction
from django.utils import timezone

from regions.selectors import regions_top_level
from registrations.models import Citizen, HouseholdMember, Presence
from registrations.services import CONSENT_VERSION

CITIZENS = 300
NAMESPACE = uuid.UUID("6f1d8a52-3b0e-4c53-9d67-0d6a6c0b5e11")
GIVEN = ["Amadou", "Claire", "Jean", "Fatou", "Louis", "Mariam", "Paul", "Sophie", "Yacine", "Zoé"]
FAMILY = ["Diallo", "Martin", "Bernard", "Haddad", "Dubois", "Khoury", "Traoré", "Moreau"]
RELATIONS = ["spouse", "child", "parent"]


def _id(kind: str, number: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}-{number}")


@transaction.atomic
def seed_citizens() -> list[str]:
    regions = list(regions_top_level(country_codes=["ML", "LB"]).values_list("code", "country_id"))
    if not regions:
        return ["Demo citizens skipped: load the geography of ML and LB first."]
    rng = random.Random(2026)  # the same register on every machine
    now = timezone.now()
    today = timezone.localdate()
    citizens, members, presences = [], [], []
    for number in range(CITIZENS):
        region_code, country_code = regions[number % len(regions)]
        prefix = "+22370000" if country_code == "ML" else "+9613000"
        citizen = Citizen(
            id=_id("citizen", number),
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            language="fr" if number % 3 else "en",
            email=f"demo-citizen-{number:03d}@example.org",
            phone=f"{prefix}{number:03d}",
            notify_by_email=True,
            notify_by_sms=number % 4 != 0,
            email_verified_at=now,
            phone_verified_at=now if number % 5 else None,
            consent_version=CONSENT_VERSION,
            consented_at=now,
            confirmed_at=now,
        )
        citizens.append(citizen)
        for member in range(number % 4):
            members.append(
                HouseholdMember(
                    id=_id(f"member-{member}", number),
                    citizen_id=citizen.id,
                    name=f"{rng.choice(GIVEN)} {citizen.family_name}",
                    relation=RELATIONS[member % len(RELATIONS)],
                )
            )
        if number % 3 == 2:
            start = today + datetime.timedelta(days=rng.randint(-10, 10))
            trip = _id("trip", number)
            presences.append(
                Presence(
                    id=_id("leg-0", number),
                    citizen_id=citizen.id,
                    kind=Presence.Kind.TRIP,
                    trip=trip,
                    country_id=country_code,
                    region_id=region_code,
                    start_date=start,
                    end_date=start + datetime.timedelta(days=rng.randint(3, 20)),
                )
            )
        else:
            presences.append(
                Presence(
                    id=_id("residence", number),
                    citizen_id=citizen.id,
                    kind=Presence.Kind.RESIDENCE,
                    country_id=country_code,
                    # Every tenth resident gave no region: "somewhere in the country".
                    region_id=None if number % 10 == 0 else region_code,
                    start_date=today - datetime.timedelta(days=rng.randint(30, 2000)),
                )
            )
    Citizen.objects.bulk_create(citizens, ignore_conflicts=True)
    HouseholdMember.objects.bulk_create(members, ignore_conflicts=True)
    Presence.objects.bulk_create(presences, ignore_conflicts=True)
    total = Citizen.objects.filter(id__in=[_id("citizen", n) for n in range(CITIZENS)]).count()
    return [
        f"Demo register: {total} citizens in Mali and Lebanon "
        "(emails demo-citizen-NNN@example.org)."
    ]
