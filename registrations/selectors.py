"""Reads of the register. The alerts use `citizens_present_in_regions` and `citizen_contacts`;
staff views use the scoped ones. Every selector decides its query cost here."""

import datetime
import functools
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import get_language

from core import personal_data
from core.crypto import keyed_hashes
from registrations import tokens
from registrations.models import Citizen, HouseholdMember, Presence


def _covering(on_date: datetime.date, *, lookahead_days: int = 0, via: str = "") -> Q:
    """Presences (`via` a relation to them) whose dates cover `on_date`, or that start within
    the look-ahead window."""
    last_start = on_date + datetime.timedelta(days=max(lookahead_days, 0))
    return Q(**{f"{via}start_date__lte": last_start}) & (
        Q(**{f"{via}end_date__isnull": True}) | Q(**{f"{via}end_date__gte": on_date})
    )


def _in_regions(
    *,
    country_code: str,
    region_codes: Collection[str],
    on_date: datetime.date,
    lookahead_days: int,
    via: str = "",
) -> Q:
    """Presences (`via` a relation to them) in one of the regions, or anywhere in the country
    when they name no region, covering the date. The two branches of the region OR match the
    two partial indexes on Presence."""
    in_regions = Q(**{f"{via}region_id__in": list(region_codes)}) | Q(
        **{f"{via}region__isnull": True}
    )
    return (
        in_regions
        & Q(**{f"{via}country_id": country_code.upper()})
        & _covering(on_date, lookahead_days=lookahead_days, via=via)
    )


def citizens_present_in_regions(
    *,
    country_code: str,
    region_codes: Collection[str],
    on_date: datetime.date,
    lookahead_days: int = 0,
) -> QuerySet[Citizen]:
    """Distinct citizens present in the regions on the date (or arriving within the window).

    One SQL query, set-based: the matching presences joined to their citizens, one row per
    citizen kept by a window. Each citizen carries `matched_region_code`: the region of one
    matching presence, preferring one with a region and then one covering `on_date`; NULL when
    only presences with no region matched. (A correlated subquery per citizen picking that
    region took most of a large fan-out's time: docs/performance.md.) The queryset stays plain
    so callers can `.values(...)` it inside an INSERT ... SELECT.
    """
    matching = _in_regions(
        country_code=country_code,
        region_codes=region_codes,
        on_date=on_date,
        lookahead_days=lookahead_days,
        via="presences__",
    )
    preference = Window(
        RowNumber(),
        partition_by=F("pk"),
        order_by=[
            Case(When(presences__region__isnull=True, then=Value(1)), default=Value(0)).asc(),
            Case(
                When(presences__start_date__lte=on_date, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ).asc(),
            F("presences__start_date").asc(),
        ],
    )
    return (
        Citizen.objects.filter(matching)
        .annotate(matched_region_code=F("presences__region_id"), preference=preference)
        .filter(preference=1)
        .order_by()
    )


def citizens_named(*, citizen_ids: Collection[uuid.UUID | str]) -> QuerySet[Citizen]:
    """The citizens with these ids, in the shape of `citizens_present_in_regions` (with no
    region matched), so a message to named people is fanned out by the same SQL."""
    return Citizen.objects.filter(id__in=citizen_ids).annotate(
        matched_region_code=Value(None, output_field=CharField())
    )


@dataclass(frozen=True)
class CitizenContact:
    """What a sender needs to reach one citizen. A channel that is not verified is empty."""

    citizen_id: uuid.UUID
    given_name: str
    language: str
    email: str
    phone: str
    # The link a message offers; None: the citizen's own manage link, signed when a message
    # first uses it (a text message never does, and signing costs more than the rest of it).
    link: str | None = None

    @functools.cached_property
    def manage_url(self) -> str:
        return tokens.manage_url(self.citizen_id) if self.link is None else self.link


def citizen_contacts(
    *, citizen_ids: Collection[uuid.UUID], channels: Collection[str] = ("email", "sms")
) -> dict[uuid.UUID, CitizenContact]:
    """Verified contacts of the citizens, keyed by id (one query; unknown ids are left out).
    Only the addresses of the given channels are read (each one is decrypted)."""
    addresses = {"email": ("email", "email_verified_at"), "sms": ("phone", "phone_verified_at")}
    columns = [column for channel in channels for column in addresses[channel]]
    rows = Citizen.objects.filter(id__any=list(citizen_ids)).values(
        "id", "given_name", "language", *columns
    )
    return {
        row["id"]: CitizenContact(
            citizen_id=row["id"],
            given_name=row["given_name"],
            language=row["language"],
            email=row["email"] if row.get("email_verified_at") else "",
            phone=row["phone"] if row.get("phone_verified_at") else "",
        )
        for row in rows
    }


def emergency_contacts(*, citizen_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CitizenContact]:
    """The emergency contacts the citizens gave, keyed by the citizen's id (one query): the
    name is the citizen's (messages speak about them), the addresses the contact's."""
    rows = Citizen.objects.filter(id__any=list(citizen_ids)).values(
        "id", "given_name", "language", "emergency_contact_email", "emergency_contact_phone"
    )
    return {
        row["id"]: CitizenContact(
            citizen_id=row["id"],
            given_name=row["given_name"],
            language=row["language"],
            email=row["emergency_contact_email"],
            phone=row["emergency_contact_phone"],
            link="",
        )
        for row in rows
    }


def citizens_present_with_household(
    *, country_code: str, region_codes: Collection[str], on_date: datetime.date
) -> QuerySet[Any, Mapping[str, object]]:
    """`citizens_present_in_regions` as rows of `id`, `matched_region_code` and `household` (how
    many household members each registered), still one query: what a safety check inserts its
    responses from."""
    household = (
        HouseholdMember.objects.filter(citizen_id=OuterRef("pk"))
        .order_by()
        .values("citizen_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        citizens_present_in_regions(
            country_code=country_code, region_codes=region_codes, on_date=on_date
        )
        .annotate(household=Coalesce(Subquery(household, output_field=IntegerField()), Value(0)))
        .values("id", "matched_region_code", "household")
    )


def household_member_ids_of_citizen(
    *, citizen_id: uuid.UUID | str, among: Collection[uuid.UUID | str] | None = None
) -> list[uuid.UUID]:
    """The ids of the citizen's household members (only those `among` the given ids, when
    given: an id of someone else's member is dropped)."""
    members = HouseholdMember.objects.filter(citizen_id=citizen_id)
    if among is not None:
        members = members.filter(id__in=list(among))
    return list(members.values_list("id", flat=True))


def household_members_of_citizen(*, citizen_id: uuid.UUID | str) -> QuerySet[HouseholdMember]:
    """The citizen's household members, in the order they were registered: whom a citizen
    may name as travelling with them."""
    return HouseholdMember.objects.filter(citizen_id=citizen_id).order_by("created_at")


def household_members_with_ids(*, member_ids: Collection[uuid.UUID]) -> QuerySet[HouseholdMember]:
    """Household members by id, whoever's they are (one query): a passenger list names them."""
    return HouseholdMember.objects.filter(id__in=list(member_ids))


def household_member_ids_of_citizens(
    *, citizen_ids: Collection[uuid.UUID | str]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(member id, citizen id) of every household member of the citizens, in one query."""
    return list(
        HouseholdMember.objects.filter(citizen_id__in=list(citizen_ids)).values_list(
            "id", "citizen_id"
        )
    )


def citizen_ids_by_phone(*, phone: str) -> list[uuid.UUID]:
    """Citizens whose verified mobile number is `phone` (E.164), for inbound SMS replies."""
    return list(
        Citizen.objects.filter(
            phone_hash__in=keyed_hashes(phone, kind="phone"), phone_verified_at__isnull=False
        )
        .order_by("created_at")
        .values_list("id", flat=True)
    )


def citizen_addresses(*, citizen_ids: Collection[uuid.UUID]) -> set[str]:
    """Every email address and phone number the citizens gave (their own and their emergency
    contact's), verified or not: what an erasure must find in copies of sent messages."""
    rows = Citizen.objects.filter(id__in=list(citizen_ids)).values_list(
        "email", "phone", "emergency_contact_email", "emergency_contact_phone"
    )
    return {address for row in rows for address in row if address}


def citizen_get_by_email(*, email: str) -> Citizen | None:
    return Citizen.objects.filter(email_hash__in=keyed_hashes(email, kind="email")).first()


def citizen_id_by_email(*, email: str) -> uuid.UUID | None:
    return citizen_id_by_email_hashes(email_hashes=keyed_hashes(email, kind="email"))


def citizen_id_by_email_hashes(*, email_hashes: Collection[str]) -> uuid.UUID | None:
    """The citizen registered under an address, given its keyed hashes (`keyed_hashes`): how a
    task finds them without the address in its message."""
    return (
        Citizen.objects.filter(email_hash__in=list(email_hashes))
        .values_list("id", flat=True)
        .first()
    )


def citizen_get(*, citizen_id: uuid.UUID | str) -> Citizen | None:
    try:
        return Citizen.objects.filter(id=citizen_id).first()
    except ValueError:
        return None


def presences_of_citizen(*, citizen: Citizen) -> QuerySet[Presence]:
    return (
        Presence.objects.filter(citizen=citizen)
        .select_related("country", "region")
        .order_by("start_date", "created_at")
    )


def presence_country_codes_of_citizen(*, citizen_id: uuid.UUID | str) -> QuerySet[Presence, Any]:
    """The codes of the countries the citizen is in or will be in (presences not ended), as a
    lazy `values` queryset another app's query can use as a subquery."""
    today = timezone.localdate()
    return (
        Presence.objects.filter(citizen_id=citizen_id)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values("country_id")
    )


def presence_current_of_citizen(*, citizen: Citizen) -> Presence | None:
    """The presence a citizen asking for help is taken to be in: the earliest covering today,
    else their earliest presence at all."""
    today = timezone.localdate()
    presences = list(presences_of_citizen(citizen=citizen))
    current = [
        p
        for p in presences
        if p.start_date <= today and (p.end_date is None or p.end_date >= today)
    ]
    candidates = current or presences
    return candidates[0] if candidates else None


def citizens_for_staff(
    *,
    country_codes: Collection[str],
    country: str | None = None,
    region: str | None = None,
    present_on: datetime.date | None = None,
    verified_channel: str | None = None,
) -> QuerySet[Citizen]:
    """Citizens with a presence in the staff member's countries, narrowed by the filters.

    Country, region and date apply to the same presence: "in ML-7 on 2026-12-01".
    """
    scope = {code.upper() for code in country_codes}
    if country:
        scope &= {country.upper()}
    presences = Presence.objects.filter(citizen_id=OuterRef("pk"), country_id__in=scope)
    if region:
        presences = presences.filter(region_id=region.upper())
    if present_on:
        presences = presences.filter(_covering(present_on))
    citizens = Citizen.objects.filter(Exists(presences))
    if verified_channel == "email":
        citizens = citizens.filter(email_verified_at__isnull=False)
    elif verified_channel == "sms":
        citizens = citizens.filter(phone_verified_at__isnull=False)
    elif verified_channel == "none":
        citizens = citizens.filter(email_verified_at__isnull=True, phone_verified_at__isnull=True)
    return citizens.annotate(household_count=Count("household_members")).order_by("-created_at")


@dataclass(frozen=True)
class RegionCount:
    region_code: str | None
    region_name: str
    citizens: int
    people: int


def presence_stats(*, country_code: str, on_date: datetime.date) -> list[RegionCount]:
    """Per region of the country: citizens present on the date, and people with households.

    One query; presences with no region are counted under region None.
    """
    rows = (
        Presence.objects.filter(country_id=country_code.upper())
        .filter(_covering(on_date))
        .values("region_id", "region__name_en", "region__name_fr")
        .annotate(
            citizens=Count("citizen_id", distinct=True),
            household=Count("citizen__household_members", distinct=True),
        )
        .order_by(F("region_id").asc(nulls_last=True))
    )
    french = (get_language() or "en").startswith("fr")
    return [
        RegionCount(
            region_code=row["region_id"],
            region_name=(
                (row["region__name_fr"] if french and row["region__name_fr"] else "")
                or row["region__name_en"]
                or ""
            ),
            citizens=row["citizens"],
            people=row["citizens"] + row["household"],
        )
        for row in rows
    ]


def presence_unreachable_counts(
    *, country_code: str, on_date: datetime.date
) -> dict[str | None, int]:
    """Per region of the country (None: no region given), the citizens present on the date
    with no verified channel: nobody can write to them (one query)."""
    rows = (
        Presence.objects.filter(
            country_id=country_code.upper(),
            citizen__email_verified_at__isnull=True,
            citizen__phone_verified_at__isnull=True,
        )
        .filter(_covering(on_date))
        .values_list("region_id")
        .annotate(citizens=Count("citizen_id", distinct=True))
        .order_by()
    )
    return dict(rows)


# Internal columns (code hashes and counters) are not data about the person.
_EXPORT_EXCLUDED = {
    "phone_code_hash",
    "phone_code_sent_at",
    "phone_code_attempts",
    "access_code_hash",
    "access_code_sent_at",
    "access_code_attempts",
}


def register_export(citizen_id: uuid.UUID) -> personal_data.Sections:
    """The register's own sections of the export: the household and the presences."""
    return {
        "household": [
            personal_data.as_row(member, exclude={"citizen"})
            for member in HouseholdMember.objects.filter(citizen_id=citizen_id).order_by(
                "created_at"
            )
        ],
        "presences": [
            personal_data.as_row(presence, exclude={"citizen"})
            for presence in Presence.objects.filter(citizen_id=citizen_id).order_by(
                "start_date", "created_at"
            )
        ],
    }


def citizen_export(*, citizen: Citizen) -> dict[str, object]:
    """Everything held about the citizen in every app, JSON-ready (right of access): the
    person, then each section a holder registered in `core.personal_data`."""
    return {
        "citizen": personal_data.as_row(citizen, exclude=_EXPORT_EXCLUDED),
        **personal_data.export(citizen_id=citizen.id),
    }
