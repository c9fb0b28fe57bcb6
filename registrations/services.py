"""Every change to the register is one of these services. Views, the API, the admin, tasks and
commands all call them, so validation and side effects have one path.

Invariants: a citizen always has at least one presence once registered; a contact is verified
for the exact address or number it was verified for (changing it resets the verification);
messages are sent by tasks enqueued after commit, with ids (or an address's keyed hashes) only;
the verification email is marked due on the row and sent in batches
(`registrations/verification_emails.py`).
"""

import datetime
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import personal_data, ratelimit, sms
from core.channels import SendError
from core.crypto import keyed_hashes
from core.exceptions import NotFound, ValidationFailed
from core.queue import enqueue_after_commit
from regions.selectors import country_exists, region_country_code
from registrations import selectors, tokens, verification_emails
from registrations.emails import citizen_email_text
from registrations.models import Citizen, HouseholdMember, Language, Presence

# Bump when the consent statement shown to citizens changes; each citizen records the version.
CONSENT_VERSION = "2026-11"
MAX_HOUSEHOLD = 10
MAX_TRIP_LEGS = 10
RESEND_INTERVAL = datetime.timedelta(seconds=60)
# Messages a citizen can be sent on request (links, codes) per address or number and hour:
# asking again and again, from any number of IPs, cannot flood someone's mailbox or phone.
MESSAGES_PER_HOUR = 5
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
RETENTION_ERASE_CHUNK = 1000
# The id no citizen has, for doing a registered citizen's work when the address is unknown.
NOBODY = uuid.UUID(int=0)


@dataclass(frozen=True)
class PersonInput:
    given_name: str
    family_name: str
    email: str
    language: str = Language.ENGLISH
    phone: str = ""
    notify_by_email: bool = True
    notify_by_sms: bool = False
    date_of_birth: datetime.date | None = None
    id_document_type: str = ""
    id_document_number: str = ""
    emergency_contact_name: str = ""
    emergency_contact_relation: str = ""
    emergency_contact_phone: str = ""
    emergency_contact_email: str = ""


@dataclass(frozen=True)
class HouseholdMemberInput:
    name: str
    relation: str
    date_of_birth: datetime.date | None = None
    phone: str = ""


@dataclass(frozen=True)
class PresenceInput:
    country: str
    start_date: datetime.date
    region: str = ""
    city: str = ""
    end_date: datetime.date | None = None


@dataclass(frozen=True)
class RegistrationResult:
    """`created` is False when the email was already registered: a manage link was sent."""

    citizen: Citizen
    created: bool = True


def phone_normalise(value: str, *, field_name: str = "phone") -> str:
    """E.164 form of an international mobile number, or ValidationFailed naming the field."""
    value = (value or "").strip()
    if not value:
        return ""
    message = _("Enter a phone number in international format, such as +223 70 00 00 00.")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(message, field=field_name, code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(message, field=field_name, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_normalise(value: str, *, field_name: str = "email", required: bool = True) -> str:
    value = (value or "").strip().lower()
    if not value:
        if required:
            raise ValidationFailed(_("This field is required."), field=field_name, code="required")
        return ""
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValidationFailed(
            _("Enter a valid email address."), field=field_name, code="invalid_email"
        ) from None
    if len(value) > 254:
        raise ValidationFailed(_("This email address is too long."), field=field_name)
    return value


def _check_text(model: type[models.Model], values: dict[str, object], prefix: str = "") -> None:
    """Refuse text longer than its column and control characters, naming the field."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        model_field = model._meta.get_field(name)
        max_length = getattr(model_field, "max_length", None)
        if max_length and len(value) > max_length:
            raise ValidationFailed(
                _("Ensure this value has at most %(max)d characters.") % {"max": max_length},
                field=f"{prefix}{name}",
                code="max_length",
            )
        if "\x00" in value:
            raise ValidationFailed(_("Null characters are not allowed."), field=f"{prefix}{name}")


def _check_date(value: datetime.date | None, *, field_name: str, past_only: bool = False) -> None:
    if value is None:
        return
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationFailed(_("Enter a realistic date."), field=field_name, code="invalid_date")
    if past_only and value > timezone.localdate():
        raise ValidationFailed(
            _("This date cannot be in the future."), field=field_name, code="invalid_date"
        )


def _person_values(person: PersonInput) -> dict[str, object]:
    """Validated, normalised citizen columns from the input."""
    values: dict[str, object] = {f.name: getattr(person, f.name) for f in fields(person)}
    for name in ("given_name", "family_name"):
        values[name] = str(values[name] or "").strip()
        if not values[name]:
            raise ValidationFailed(_("This field is required."), field=name, code="required")
    _check_text(Citizen, values)
    values["email"] = email_normalise(person.email)
    values["phone"] = phone_normalise(person.phone)
    values["emergency_contact_phone"] = phone_normalise(
        person.emergency_contact_phone, field_name="emergency_contact_phone"
    )
    values["emergency_contact_email"] = email_normalise(
        person.emergency_contact_email, field_name="emergency_contact_email", required=False
    )
    if person.language not in Language.values:
        raise ValidationFailed(_("Choose English or French."), field="language")
    if person.id_document_type and person.id_document_type not in Citizen.IdDocumentType.values:
        raise ValidationFailed(_("Choose a document type."), field="id_document_type")
    if person.id_document_number and not person.id_document_type:
        raise ValidationFailed(_("Choose a document type."), field="id_document_type")
    _check_date(person.date_of_birth, field_name="date_of_birth", past_only=True)
    if not (person.notify_by_email or person.notify_by_sms):
        raise ValidationFailed(
            _("Choose at least one way to be alerted."), field="notify_by_email", code="required"
        )
    if person.notify_by_sms and not values["phone"]:
        raise ValidationFailed(
            _("Give a mobile number to be alerted by text message."),
            field="phone",
            code="required",
        )
    return values


def _household_rows(
    citizen: Citizen, household: Sequence[HouseholdMemberInput]
) -> list[HouseholdMember]:
    if len(household) > MAX_HOUSEHOLD:
        raise ValidationFailed(
            _("At most %(max)d household members can be registered.") % {"max": MAX_HOUSEHOLD},
            field="household",
            code="too_many",
        )
    rows = []
    for index, member in enumerate(household):
        prefix = f"household.{index}."
        values: dict[str, object] = {f.name: getattr(member, f.name) for f in fields(member)}
        for name in ("name", "relation"):
            values[name] = str(values[name] or "").strip()
            if not values[name]:
                raise ValidationFailed(
                    _("This field is required."), field=f"{prefix}{name}", code="required"
                )
        _check_text(HouseholdMember, values, prefix)
        _check_date(member.date_of_birth, field_name=f"{prefix}date_of_birth", past_only=True)
        values["phone"] = phone_normalise(member.phone, field_name=f"{prefix}phone")
        rows.append(HouseholdMember(citizen=citizen, **values))
    return rows


def _presence_row(
    citizen: Citizen,
    presence: PresenceInput,
    *,
    kind: str,
    trip: uuid.UUID | None,
    prefix: str,
) -> Presence:
    """A validated, unsaved presence; errors name `<prefix>country`, `<prefix>region`..."""
    country_code = (presence.country or "").strip().upper()
    region_code = (presence.region or "").strip().upper() or None
    # A region's row names its country, which exists: one query checks both when they agree.
    region_country = region_country_code(region_code=region_code) if region_code else None
    if region_country != country_code and not country_exists(code=country_code):
        raise ValidationFailed(
            _("Choose a country from the list."), field=f"{prefix}country", code="unknown_country"
        )
    if region_code is not None:
        if region_country is None:
            raise ValidationFailed(
                _("Choose a region from the list."),
                field=f"{prefix}region",
                code="unknown_region",
            )
        if region_country != country_code:
            raise ValidationFailed(
                _("This region is not in the chosen country."),
                field=f"{prefix}region",
                code="region_not_in_country",
            )
    city = (presence.city or "").strip()
    _check_text(Presence, {"city": city}, prefix)
    _check_date(presence.start_date, field_name=f"{prefix}start_date")
    _check_date(presence.end_date, field_name=f"{prefix}end_date")
    if kind == Presence.Kind.TRIP and presence.end_date is None:
        raise ValidationFailed(
            _("Give the date this part of the trip ends."),
            field=f"{prefix}end_date",
            code="required",
        )
    if presence.end_date is not None and presence.end_date < presence.start_date:
        raise ValidationFailed(
            _("The end date must be on or after the start date."),
            field=f"{prefix}end_date",
            code="dates_order",
        )
    return Presence(
        citizen=citizen,
        kind=kind,
        trip=trip,
        country_id=country_code,
        region_id=region_code,
        city=city,
        start_date=presence.start_date,
        end_date=presence.end_date,
    )


# The tasks the register's services enqueue, by name (see core.queue).
SEND_MANAGE_LINK = "registrations.tasks.send_manage_link"
SEND_MANAGE_LINK_TO_ADDRESS = "registrations.tasks.send_manage_link_to_address"
SEND_ACCESS_CODE_TO_ADDRESS = "registrations.tasks.send_access_code_to_address"
SEND_PHONE_CODE = "registrations.tasks.send_phone_code"


def _may_send_to(address: str) -> bool:
    """Count one requested message to the address; False once the hourly allowance is spent
    (the caller then sends nothing and answers as usual)."""
    return ratelimit.hit(
        key=ratelimit.hashed_key("registrations-message", address),
        limit=MESSAGES_PER_HOUR,
        window_seconds=3600,
    )


def citizen_register(
    *,
    person: PersonInput,
    household: Sequence[HouseholdMemberInput],
    presence: PresenceInput,
    kind: str,
    consent: bool,
) -> RegistrationResult:
    """Register a citizen with their household and first presence, all or nothing.

    An email already registered creates nothing: the owner of the address is sent a manage
    link instead, and the caller answers exactly as for a new registration (no enumeration).
    """
    if not consent:
        raise ValidationFailed(
            _("Please agree to the use of your data to register."), field="consent", code="consent"
        )
    if kind not in Presence.Kind.values:
        raise ValidationFailed(_("Choose residence or trip."), field="presence.kind")
    values = _person_values(person)
    now = timezone.now()
    citizen = Citizen(
        **values,
        consent_version=CONSENT_VERSION,
        consented_at=now,
        confirmed_at=now,
        email_verification_due_at=now,
    )
    members = _household_rows(citizen, household)
    first = _presence_row(
        citizen,
        presence,
        kind=kind,
        trip=uuid.uuid4() if kind == Presence.Kind.TRIP else None,
        prefix="presence.",
    )
    try:
        with transaction.atomic():
            citizen.save(force_insert=True)
            HouseholdMember.objects.bulk_create(members)
            first.save(force_insert=True)
    except IntegrityError:
        existing = selectors.citizen_get_by_email(email=str(values["email"]))
        if existing is None:
            raise
        if _may_send_to(existing.email):
            enqueue_after_commit(SEND_MANAGE_LINK, str(existing.id))
        return RegistrationResult(citizen=existing, created=False)
    transaction.on_commit(verification_emails.verification_emails_kick)
    if citizen.phone and citizen.notify_by_sms:
        enqueue_after_commit(SEND_PHONE_CODE, str(citizen.id))
    return RegistrationResult(citizen=citizen, created=True)


@transaction.atomic
def citizen_update(*, citizen: Citizen, person: PersonInput) -> Citizen:
    """Change the citizen's details; a changed email or phone must be verified again."""
    values = _person_values(person)
    email_changed = values["email"] != citizen.email
    phone_changed = values["phone"] != citizen.phone
    for name, value in values.items():
        setattr(citizen, name, value)
    if email_changed:
        citizen.email_verified_at = None
        citizen.email_verification_due_at = timezone.now()
    if phone_changed:
        citizen.phone_verified_at = None
        citizen.phone_code_hash = ""
    try:
        with transaction.atomic():
            citizen.save()
    except IntegrityError:
        raise ValidationFailed(
            _("This email address is used by another registration."),
            field="email",
            code="email_taken",
        ) from None
    if email_changed:
        transaction.on_commit(verification_emails.verification_emails_kick)
    if phone_changed and citizen.phone and citizen.notify_by_sms:
        enqueue_after_commit(SEND_PHONE_CODE, str(citizen.id))
    return citizen


@transaction.atomic
def household_replace(
    *, citizen: Citizen, household: Sequence[HouseholdMemberInput]
) -> list[HouseholdMember]:
    members = _household_rows(citizen, household)
    HouseholdMember.objects.filter(citizen=citizen).delete()
    return HouseholdMember.objects.bulk_create(members)


@transaction.atomic
def trip_add(*, citizen: Citizen, legs: Sequence[PresenceInput]) -> list[Presence]:
    """Add a trip of one or more legs (each dated both ends), all or nothing."""
    if not legs:
        raise ValidationFailed(_("Add at least one destination."), field="legs", code="required")
    if len(legs) > MAX_TRIP_LEGS:
        raise ValidationFailed(
            _("A trip can have at most %(max)d legs.") % {"max": MAX_TRIP_LEGS}, field="legs"
        )
    trip = uuid.uuid4()
    rows = [
        _presence_row(citizen, leg, kind=Presence.Kind.TRIP, trip=trip, prefix=f"legs.{index}.")
        for index, leg in enumerate(legs)
    ]
    return Presence.objects.bulk_create(rows)


@transaction.atomic
def presence_check_out(
    *, citizen: Citizen, presence_id: uuid.UUID | str, on_date: datetime.date | None = None
) -> Presence | None:
    """ "I have left": the presence ends on `on_date` (today); one not yet begun is removed.

    Returns the updated presence, or None when it was removed. Leaving the last presence does
    not delete the registration: retention does that after the trip period.
    """
    on_date = on_date or timezone.localdate()
    presence = Presence.objects.select_for_update().filter(citizen=citizen, id=presence_id).first()
    if presence is None:
        raise NotFound(_("No such presence."), field="presence")
    if presence.start_date > on_date:
        presence.delete()
        return None
    if presence.end_date is None or presence.end_date > on_date:
        presence.end_date = on_date
        presence.save(update_fields=["end_date", "updated_at"])
    return presence


def citizen_delete(*, citizen: Citizen) -> None:
    """Erase the citizen everywhere (right to erasure): every app's rows about them are deleted
    or anonymised, then the citizen, their household and presences go, in one transaction."""
    citizens_delete(citizen_ids=[citizen.id])


def citizens_delete(*, citizen_ids: Sequence[uuid.UUID]) -> None:
    """`citizen_delete` for several citizens at once (the admin's bulk delete)."""
    personal_data.erase(citizen_ids=citizen_ids, reason="request")


def citizens_erase(citizen_ids: list[uuid.UUID]) -> dict[str, int]:
    """The register's eraser, run last by `core.personal_data.erase`: deletes the citizens
    (household members and presences cascade)."""
    _total, deleted = Citizen.objects.filter(id__in=citizen_ids).delete()
    return {
        label.lower(): count
        for label, count in deleted.items()
        if label.startswith("registrations.")
    }


def citizen_confirm(*, citizen: Citizen) -> Citizen:
    """The citizen confirms their details are still right: the yearly clock starts again."""
    citizen.confirmed_at = timezone.now()
    citizen.confirmation_requested_at = None
    citizen.save(update_fields=["confirmed_at", "confirmation_requested_at", "updated_at"])
    return citizen


# --- Verification -------------------------------------------------------------------------


def email_verify(*, token: str) -> Citizen:
    """Mark the email verified if the signed link is valid, recent and for the current address."""
    invalid = ValidationFailed(
        _("This link is invalid or has expired. Ask for a new one."),
        field="token",
        code="invalid_token",
    )
    value = tokens.verify_email_token_value(token)
    if value is None:
        raise invalid
    citizen_id, address = value
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().filter(id=citizen_id).first()
        if citizen is None or not tokens.verify_email_token_matches(address, citizen.email):
            raise invalid
        if citizen.email_verified_at is None:
            citizen.email_verified_at = timezone.now()
            citizen.save(update_fields=["email_verified_at", "updated_at"])
    return citizen


def email_verification_request(*, citizen: Citizen) -> None:
    if citizen.email_verified_at is None and _may_send_to(citizen.email):
        verification_emails.verification_email_due(citizen=citizen)


def phone_verification_request(*, citizen: Citizen) -> None:
    if not citizen.phone:
        raise ValidationFailed(_("There is no mobile number to verify."), field="phone")
    if not _may_send_to(citizen.phone):
        raise ValidationFailed(
            _("Too many codes were asked for this number. Try again in an hour."),
            field="phone",
            code="throttled",
        )
    enqueue_after_commit(SEND_PHONE_CODE, str(citizen.id))


def _code_issue(*, citizen_id: uuid.UUID | str, purpose: str) -> tuple[Citizen, str] | None:
    """A new one-time code for the citizen (its hash stored), or None when one was issued
    less than RESEND_INTERVAL ago (a redelivered task or an impatient second click)."""
    hash_field, sent_field, attempts_field = (
        f"{purpose}_code_hash",
        f"{purpose}_code_sent_at",
        f"{purpose}_code_attempts",
    )
    now = timezone.now()
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().filter(id=citizen_id).first()
        if citizen is None:
            return None
        sent_at = getattr(citizen, sent_field)
        if sent_at is not None and now - sent_at < RESEND_INTERVAL:
            return None
        code = tokens.code_new()
        setattr(
            citizen, hash_field, tokens.code_hash(purpose=purpose, citizen_id=citizen.id, code=code)
        )
        setattr(citizen, sent_field, now)
        setattr(citizen, attempts_field, 0)
        citizen.save(update_fields=[hash_field, sent_field, attempts_field, "updated_at"])
    return citizen, code


def _code_check(*, citizen_id: uuid.UUID | str, purpose: str, code: str) -> bool:
    """Spend one attempt on the code; True when it is right, recent and attempts remain."""
    hash_field, sent_field, attempts_field = (
        f"{purpose}_code_hash",
        f"{purpose}_code_sent_at",
        f"{purpose}_code_attempts",
    )
    now = timezone.now()
    with transaction.atomic():
        citizen = Citizen.objects.select_for_update().filter(id=citizen_id).first()
        sent_at = getattr(citizen, sent_field, None)
        matches = (
            citizen is not None
            and bool(getattr(citizen, hash_field))
            and sent_at is not None
            and now - sent_at <= tokens.CODE_MAX_AGE
            and getattr(citizen, attempts_field) < tokens.CODE_MAX_ATTEMPTS
            and tokens.code_matches(
                purpose=purpose,
                citizen_id=citizen.id,
                code=(code or "").strip(),
                stored_hash=getattr(citizen, hash_field),
            )
        )
        if citizen is not None and matches:
            setattr(citizen, hash_field, "")
            setattr(citizen, attempts_field, 0)
            if purpose == "phone":
                citizen.phone_verified_at = now
            citizen.save(update_fields=[hash_field, attempts_field, "phone_verified_at"])
        else:
            # The failed try is committed: the attempt limit holds even though we refuse. A
            # citizen who does not exist is refused after the same statements.
            Citizen.objects.filter(id=citizen_id).update(
                **{attempts_field: models.F(attempts_field) + 1}
            )
    return matches


def phone_verify(*, citizen: Citizen, code: str) -> None:
    if not _code_check(citizen_id=citizen.id, purpose="phone", code=code):
        raise ValidationFailed(
            _("This code is wrong or has expired. Ask for a new code."),
            field="code",
            code="invalid_code",
        )
    citizen.refresh_from_db(fields=["phone_verified_at", "phone_code_hash"])


def _address_message_request(*, email: str, task: str) -> None:
    """Enqueue `task` for whoever is registered under the address, without finding out here.

    A request for a registered address and one for an unknown address do the same work (no
    query, one allowance counted, one task enqueued): their answer and its timing cannot tell
    who is in the register. The task receives the keyed hashes the register is searched by, not
    the address, and sends nothing when no one is registered under them.
    """
    try:
        email = email_normalise(email)
    except ValidationFailed:
        return
    if _may_send_to(email):
        enqueue_after_commit(task, keyed_hashes(email, kind="email"))


def access_code_request(*, email: str) -> None:
    """Email a sign-in code if the address is registered; the caller answers the same either
    way, so the register cannot be probed for who is in it."""
    _address_message_request(email=email, task=SEND_ACCESS_CODE_TO_ADDRESS)


def access_token_issue(*, email: str, code: str) -> str:
    """A short-lived self-service token for the right email and code; one answer for every
    wrong combination."""
    refused = ValidationFailed(
        _("This code is wrong or has expired. Ask for a new code."),
        field="code",
        code="invalid_code",
    )
    try:
        email = email_normalise(email)
    except ValidationFailed:
        raise refused from None
    # An unknown address spends its attempt on no one, through the same queries as a wrong code
    # for a registered one: how long the refusal takes cannot tell who is in the register.
    citizen_id = selectors.citizen_id_by_email(email=email) or NOBODY
    if not _code_check(citizen_id=citizen_id, purpose="access", code=code):
        raise refused
    # Reading the code from the mailbox proves the address, as the verification link does.
    Citizen.objects.filter(id=citizen_id, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )
    return tokens.me_token(citizen_id)


def manage_link_request(*, email: str) -> None:
    """Email a manage link if the address is registered (same answer either way)."""
    _address_message_request(email=email, task=SEND_MANAGE_LINK_TO_ADDRESS)


# --- Retention ------------------------------------------------------------------------------


def retention_apply(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete what the register no longer needs, in bulk:
    - presences that ended more than RETENTION_TRIP_DAYS ago (trips, and residences left);
    - citizens left with no presence;
    - residents asked to confirm more than RETENTION_CONFIRMATION_GRACE_DAYS ago who did not.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    ended_before = today - datetime.timedelta(days=settings.RETENTION_TRIP_DAYS)
    grace = datetime.timedelta(days=settings.RETENTION_CONFIRMATION_GRACE_DAYS)
    with transaction.atomic():
        presences, _detail = Presence.objects.filter(end_date__lt=ended_before).delete()
        unconfirmed = list(
            Citizen.objects.filter(confirmation_requested_at__lt=now - grace).values_list(
                "id", flat=True
            )
        )
        _erase_in_chunks(unconfirmed)
        orphans = list(
            Citizen.objects.filter(
                ~models.Exists(Presence.objects.filter(citizen=models.OuterRef("pk")))
            ).values_list("id", flat=True)
        )
        _erase_in_chunks(orphans)
        unconfirmed_count, orphan_count = len(unconfirmed), len(orphans)
    return {
        "presences": presences,
        "citizens_without_presence": orphan_count,
        "citizens_unconfirmed": unconfirmed_count,
    }


def _erase_in_chunks(citizen_ids: list[uuid.UUID]) -> None:
    # Bounded IN lists; each chunk is one audit event naming the reason and the counts.
    for start in range(0, len(citizen_ids), RETENTION_ERASE_CHUNK):
        personal_data.erase(
            citizen_ids=citizen_ids[start : start + RETENTION_ERASE_CHUNK], reason="retention"
        )


def confirmation_requests_due(*, now: datetime.datetime | None = None) -> list[str]:
    """Mark the residents due for their yearly confirmation and return their ids (to email).

    Due: living abroad now, details confirmed more than RETENTION_CONFIRM_EVERY_DAYS ago and
    not already asked since.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    every = datetime.timedelta(days=settings.RETENTION_CONFIRM_EVERY_DAYS)
    residences = Presence.objects.filter(
        citizen_id=models.OuterRef("pk"), kind=Presence.Kind.RESIDENCE, start_date__lte=today
    ).filter(models.Q(end_date__isnull=True) | models.Q(end_date__gte=today))
    with transaction.atomic():
        due = Citizen.objects.select_for_update().filter(
            models.Exists(residences),
            confirmed_at__lt=now - every,
            confirmation_requested_at__isnull=True,
        )
        ids = [str(citizen_id) for citizen_id in due.values_list("id", flat=True)]
        Citizen.objects.filter(id__in=ids).update(confirmation_requested_at=now)
    return ids


# --- Messages (called by the tasks, after commit) ---------------------------------------------


def _email_citizen(citizen: Citizen, template: str, context: dict[str, object]) -> None:
    subject, body = citizen_email_text(citizen, template, context)
    EmailMessage(subject, body, to=[citizen.email]).send()


def manage_link_send(*, citizen_id: uuid.UUID | str) -> bool:
    citizen = Citizen.objects.filter(id=citizen_id).first()
    if citizen is None:
        return False
    _email_citizen(citizen, "manage_link", {"manage_url": tokens.manage_url(citizen.id)})
    return True


def manage_link_send_to_address(*, email_hashes: Sequence[str]) -> bool:
    """`manage_link_send` to the citizen registered under the address whose keyed hashes these
    are; False when there is none."""
    citizen_id = selectors.citizen_id_by_email_hashes(email_hashes=email_hashes)
    return citizen_id is not None and manage_link_send(citizen_id=citizen_id)


def access_code_send_to_address(*, email_hashes: Sequence[str]) -> bool:
    """`access_code_send` to the citizen registered under the address whose keyed hashes these
    are; False when there is none."""
    citizen_id = selectors.citizen_id_by_email_hashes(email_hashes=email_hashes)
    return citizen_id is not None and access_code_send(citizen_id=citizen_id)


def access_code_send(*, citizen_id: uuid.UUID | str) -> bool:
    issued = _code_issue(citizen_id=citizen_id, purpose="access")
    if issued is None:
        return False
    citizen, code = issued
    _email_citizen(citizen, "access_code", {"code": code})
    return True


def phone_code_send(*, citizen_id: uuid.UUID | str) -> bool:
    """Text a new 6-digit code to the citizen's number; raises SendError on refusal."""
    issued = _code_issue(citizen_id=citizen_id, purpose="phone")
    if issued is None:
        return False
    citizen, code = issued
    with translation.override(citizen.language):
        body = gettext("Your consular registration code is %(code)s. It expires in 10 minutes.") % {
            "code": code
        }
    try:
        # The provider's idempotency key: its own for each code (a provider honouring it would
        # drop a second code sent under the first one's), and telling the provider nothing.
        sms.send_sms(to=citizen.phone, body=body, reference=secrets.token_hex(16))
    except SendError:
        # Let the retry issue a fresh code instead of waiting out the resend interval.
        Citizen.objects.filter(id=citizen.id).update(phone_code_sent_at=None, phone_code_hash="")
        raise
    return True


def confirmation_request_send(*, citizen_id: uuid.UUID | str) -> bool:
    citizen = Citizen.objects.filter(id=citizen_id, confirmation_requested_at__isnull=False).first()
    if citizen is None:
        return False
    _email_citizen(
        citizen,
        "confirm_details",
        {
            "manage_url": tokens.manage_url(citizen.id),
            "grace_days": settings.RETENTION_CONFIRMATION_GRACE_DAYS,
        },
    )
    return True
