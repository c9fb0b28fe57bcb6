"""The manifest of an option: one row per person holding a seat on it (accepted first, then
offered), with the columns of the US evacuee manifest (form DS-5528): who, born when, which
nationality and travel document, how to reach them, whom to call who is not travelling,
medical or mobility needs, minors travelling alone; and where each one is at the assembly
point (present, boarded, no-show), which the check-in page reads from the same rows."""

import csv
import datetime
import io
import re
import uuid
from dataclasses import astuple, dataclass, fields
from typing import Any

from core.spreadsheets import safe_cell
from departures.models import REFERENCE_LENGTH, Boarding, DepartureOption, Offer, Traveller
from registrations.selectors import citizens_named, household_members_with_ids


@dataclass(frozen=True)
class ManifestRow:
    reference: str
    state: str
    name: str
    relation: str
    date_of_birth: datetime.date | None
    nationality: str
    document_type: str
    document_number: str
    document_expiry: datetime.date | None
    phone: str
    email: str
    emergency_contact: str
    emergency_phone: str
    medical_or_mobility_needs: str
    minors_alone: bool
    boarding: str


COLUMNS = [field.name for field in fields(ManifestRow)]


@dataclass(frozen=True)
class ManifestEntry:
    """A manifest row with the ids the check-in acts on."""

    offer_id: uuid.UUID
    traveller_id: uuid.UUID
    row: ManifestRow


_LOOK_ALIKE = str.maketrans("OIL", "011")


def manifest_entries(
    *, option: DepartureOption, states: tuple[str, ...] = Offer.LIVE_STATES
) -> list[ManifestEntry]:
    """In five queries whatever the size: the offers, their travellers, their boardings, the
    citizens and the household members named."""
    offers = list(
        option.offers.filter(state__in=states)
        .select_related("intent")
        .order_by("state", "rank", "created_at")
    )
    travellers: dict[object, list[Traveller]] = {}
    for traveller in Traveller.objects.filter(intent_id__in=[o.intent_id for o in offers]):
        travellers.setdefault(traveller.intent_id, []).append(traveller)
    boardings = {
        (offer_id, traveller_id): state
        for offer_id, traveller_id, state in Boarding.objects.filter(
            offer_id__in=[o.id for o in offers]
        ).values_list("offer_id", "traveller_id", "state")
    }
    citizens: dict[uuid.UUID | None, Any] = {
        citizen.id: citizen
        for citizen in citizens_named(
            citizen_ids=[o.intent.citizen_id for o in offers if o.intent.citizen_id]
        )
    }
    members: dict[uuid.UUID | None, Any] = {
        member.id: member
        for member in household_members_with_ids(
            member_ids=[
                t.household_member_id
                for group in travellers.values()
                for t in group
                if t.household_member_id
            ]
        )
    }
    entries = []
    for offer in offers:
        citizen = citizens.get(offer.intent.citizen_id)
        for traveller in sorted(
            travellers.get(offer.intent_id, []), key=lambda t: (not t.is_citizen, t.created_at)
        ):
            member = members.get(traveller.household_member_id)
            if traveller.is_citizen and citizen is not None:
                name, relation, born = str(citizen), "", citizen.date_of_birth
            elif member is not None:
                name, relation, born = member.name, member.relation, member.date_of_birth
            else:
                name, relation, born = "", "", None  # erased
            row = ManifestRow(
                reference=offer.reference,
                state=offer.state,
                name=name,
                relation=relation,
                date_of_birth=born,
                nationality=traveller.nationality,
                document_type=traveller.document_type,
                document_number=traveller.document_number,
                document_expiry=traveller.document_expiry,
                phone=citizen.phone if citizen else "",
                email=citizen.email if citizen else "",
                emergency_contact=citizen.emergency_contact_name if citizen else "",
                emergency_phone=citizen.emergency_contact_phone if citizen else "",
                medical_or_mobility_needs=offer.intent.assistance_details,
                minors_alone=offer.intent.minors_alone,
                boarding=boardings.get((offer.id, traveller.id), ""),
            )
            entries.append(ManifestEntry(offer_id=offer.id, traveller_id=traveller.id, row=row))
    return entries


def checkin_search(*, option: DepartureOption, query: str) -> list[ManifestEntry]:
    """The people of the option's accepted offers matching `query` (see `checkin_match`)."""
    return checkin_match(
        entries=manifest_entries(option=option, states=(Offer.State.ACCEPTED,)), query=query
    )


def checkin_match(*, entries: list[ManifestEntry], query: str) -> list[ManifestEntry]:
    """The entries matching what staff typed or a phone's QR scanner pasted: a reference
    (alone, or at the end of a link), else part of a name. In Python over the option's rows:
    names of household members are encrypted, and an option holds at most a few hundred
    people."""
    wanted = query.strip()
    if "/" in wanted:
        wanted = next((part for part in reversed(wanted.split("/")) if part), "")
    if not wanted:
        return entries
    # As typed from a message: the letters a reference never holds read as the digits they
    # look like.
    reference = re.sub(r"[^0-9A-Z]", "", wanted.upper()).translate(_LOOK_ALIKE)
    if len(reference) == REFERENCE_LENGTH:
        by_reference = [entry for entry in entries if entry.row.reference == reference]
        if by_reference:
            return by_reference
    folded = wanted.casefold()
    return [entry for entry in entries if folded in entry.row.name.casefold()]


def manifest_rows(*, option: DepartureOption) -> list[ManifestRow]:
    return [entry.row for entry in manifest_entries(option=option)]


def manifest_csv(rows: list[ManifestRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([safe_cell("" if value is None else str(value)) for value in astuple(row)])
    return buffer.getvalue()
