from django.db import models
from django.db.models.functions import Concat
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext_lazy as _

from core.crypto import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    KeyedHashField,
)
from core.models import BaseModel

NAME_MAX = 100
CITY_MAX = 100
PHONE_MAX = 16  # E.164: "+" and at most 15 digits


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")


class Citizen(BaseModel):
    """A registered national: who to reach, how, and in which language.

    A channel (email, sms) is used for alerts only when it is chosen AND verified; the
    verification timestamps are reset whenever the address or number changes.
    """

    class IdDocumentType(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        ID_CARD = "id_card", _("Identity card")

    # Names stay in clear: staff search and sort the register by them. Everything else that
    # identifies or locates a person is encrypted at rest (core.crypto).
    given_name = models.CharField(_("given name"), max_length=NAME_MAX)
    family_name = models.CharField(_("family name"), max_length=NAME_MAX)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    id_document_type = models.CharField(
        _("identity document"), max_length=20, choices=IdDocumentType.choices, blank=True
    )
    id_document_number = EncryptedCharField(_("document number"), max_length=40, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    # Services store it lower-case; the hash is of the lower-cased address, so its unique
    # constraint refuses case variants too.
    email = EncryptedEmailField(_("email"))
    email_hash = KeyedHashField(source="email", kind="email")
    phone = EncryptedCharField(_("mobile phone"), max_length=PHONE_MAX, blank=True)
    phone_hash = KeyedHashField(source="phone", kind="phone")
    notify_by_email = models.BooleanField(_("alerts by email"), default=True)
    notify_by_sms = models.BooleanField(_("alerts by text message"), default=False)
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    # Set when a verification email is to be sent, cleared once sent (verification_emails.py).
    email_verification_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    emergency_contact_name = EncryptedCharField(
        _("emergency contact name"), max_length=2 * NAME_MAX, blank=True
    )
    emergency_contact_relation = EncryptedCharField(
        _("emergency contact relation"), max_length=50, blank=True
    )
    emergency_contact_phone = EncryptedCharField(
        _("emergency contact phone"), max_length=PHONE_MAX, blank=True
    )
    emergency_contact_email = EncryptedEmailField(_("emergency contact email"), blank=True)

    consent_version = models.CharField(_("consent text version"), max_length=20)
    consented_at = models.DateTimeField(_("consented at"))
    # Residents confirm their details yearly; unconfirmed ones are removed after a grace period.
    confirmed_at = models.DateTimeField(_("details last confirmed at"))
    confirmation_requested_at = models.DateTimeField(
        _("confirmation requested at"), null=True, blank=True
    )

    # One-time codes: only a keyed hash is stored, with when it was issued and the failed tries.
    phone_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_code_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    phone_code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    access_code_hash = models.CharField(max_length=64, blank=True, editable=False)
    access_code_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    access_code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("registered citizen")
        verbose_name_plural = _("registered citizens")
        constraints = [
            # One registration per address (lookups by email expect at most one row).
            models.UniqueConstraint(fields=["email_hash"], name="citizen_email_hash_unique"),
            # An SMS channel without a number could never be verified nor used.
            models.CheckConstraint(
                condition=models.Q(notify_by_sms=False) | ~models.Q(phone=""),
                name="citizen_sms_needs_phone",
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=["en", "fr"]), name="citizen_language_valid"
            ),
        ]
        indexes = [
            # citizen_ids_by_phone (inbound SMS replies are matched on the sender's number).
            models.Index(fields=["phone_hash"], name="citizen_phone_hash_idx"),
            # verification_emails_send: the few rows whose email is due, oldest first.
            models.Index(
                fields=["email_verification_due_at"],
                condition=models.Q(email_verification_due_at__isnull=False),
                name="citizen_verification_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def email_alerts_ready(self) -> bool:
        return self.notify_by_email and self.email_verified_at is not None

    @property
    def sms_alerts_ready(self) -> bool:
        return self.notify_by_sms and self.phone_verified_at is not None


class HouseholdMember(BaseModel):
    """Someone travelling or living with the citizen: children and non-nationals included."""

    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.CASCADE,
        related_name="household_members",
        verbose_name=_("citizen"),
    )
    name = EncryptedCharField(_("name"), max_length=2 * NAME_MAX)
    relation = EncryptedCharField(_("relation"), max_length=50)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=PHONE_MAX, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("household member")
        verbose_name_plural = _("household members")

    def __str__(self) -> str:
        # Not the name: the admin copies this into its change history, which is not encrypted.
        return f"{self._meta.verbose_name} {str(self.id)[:8]}"


class Presence(BaseModel):
    """Where a citizen is: a residence (open-ended) or one leg of a trip (dated both ends).

    No region means "somewhere in the country": such a presence is alerted for every region.
    """

    class Kind(models.TextChoices):
        RESIDENCE = "residence", _("Residence")
        TRIP = "trip", _("Trip")

    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="presences", verbose_name=_("citizen")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The legs of one trip share this id; residences have none.
    trip = models.UUIDField(_("trip"), null=True, blank=True, editable=False)
    country = models.ForeignKey(
        "regions.Country",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("country"),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
        # presence_region_start_idx leads with the region and serves the foreign key too.
        db_index=False,
    )
    city = models.CharField(_("city"), max_length=CITY_MAX, blank=True)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("presence")
        verbose_name_plural = _("presences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="presence_end_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="trip") | models.Q(end_date__isnull=False),
                name="presence_trip_has_end",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="trip", trip__isnull=False)
                | models.Q(kind="residence", trip__isnull=True),
                name="presence_kind_valid",
            ),
            # ISO 3166-2 codes start with their country's code ("ML-7" is in ML), and the
            # region table enforces that too: so the prefix ties the region to this country.
            models.CheckConstraint(
                condition=models.Q(region__isnull=True)
                | models.Q(
                    StartsWith(models.F("region_id"), Concat("country_id", models.Value("-")))
                ),
                name="presence_region_in_country",
            ),
        ]
        indexes = [
            # citizens_present_in_regions: presences in the alerted regions that have begun by
            # the end of the look-ahead window (also serves the region foreign key).
            models.Index(
                fields=["region", "start_date"],
                condition=models.Q(region__isnull=False),
                name="presence_region_start_idx",
            ),
            # citizens_present_in_regions: presences "somewhere in the country" (no region).
            models.Index(
                fields=["country", "start_date"],
                condition=models.Q(region__isnull=True),
                name="presence_country_noregion_idx",
            ),
            # Staff scoping, stats and retention: presences of a country by end date.
            models.Index(fields=["country", "end_date"], name="presence_country_end_idx"),
        ]

    def __str__(self) -> str:
        where = self.region_id or self.country_id
        return f"{self.get_kind_display()} {where} {self.start_date} to {self.end_date or '...'}"
