import datetime
import uuid

import factory
from django.utils import timezone

from registrations.models import Citizen, HouseholdMember, Presence


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    given_name = "Awa"
    family_name = factory.Sequence(lambda n: f"Traoré{n}")
    email = factory.Sequence(lambda n: f"citizen{n}@example.org")
    phone = factory.Sequence(lambda n: f"+2237000{n % 10000:04d}")
    language = "fr"
    notify_by_email = True
    notify_by_sms = True
    email_verified_at = factory.LazyFunction(timezone.now)
    phone_verified_at = factory.LazyFunction(timezone.now)
    consent_version = "2026-11"
    consented_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)


class HouseholdMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdMember

    citizen = factory.SubFactory(CitizenFactory)
    name = "Moussa Traoré"
    relation = "child"


class PresenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Presence

    citizen = factory.SubFactory(CitizenFactory)
    kind = Presence.Kind.RESIDENCE
    country_id = "ML"
    region_id = "ML-7"
    start_date = datetime.date(2026, 1, 1)
    end_date = None


def trip_leg(**kwargs):
    kwargs.setdefault("trip", uuid.uuid4())
    kwargs.setdefault("end_date", kwargs.get("start_date", datetime.date(2026, 1, 1)))
    return PresenceFactory(kind=Presence.Kind.TRIP, **kwargs)
