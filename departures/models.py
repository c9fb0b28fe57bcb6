from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField, EncryptedDateField, EncryptedTextField
from core.models import BaseModel

TEXT_MAX = 4000


class DepartureOperation(BaseModel):
    """An assisted departure from one country (optionally some of its regions).

    Opened as a draft by consular staff of a post covering the country and started only when a
    second person approves it, like every message to a region (draft -> awaiting_approval ->
    open); then closing (no new intents, the seats already offered still count) and closed.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        OPEN = "open", _("Open")
        CLOSING = "closing", _("Closing")
        CLOSED = "closed", _("Closed")

    APPROVED_STATUSES = (Status.OPEN, Status.CLOSING, Status.CLOSED)

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    country = models.ForeignKey(
        "regions.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("country")
    )
    # Empty: the whole country.
    region_codes = models.JSONField(_("regions"), default=list, blank=True)
    eligibility_en = models.TextField(_("who may leave (English)"), max_length=TEXT_MAX)
    eligibility_fr = models.TextField(_("who may leave (French)"), max_length=TEXT_MAX)
    baggage_policy_en = models.TextField(
        _("baggage and pets (English)"), max_length=TEXT_MAX, blank=True
    )
    baggage_policy_fr = models.TextField(
        _("baggage and pets (French)"), max_length=TEXT_MAX, blank=True
    )
    assembly_instructions_en = models.TextField(
        _("assembly instructions (English)"), max_length=TEXT_MAX, blank=True
    )
    assembly_instructions_fr = models.TextField(
        _("assembly instructions (French)"), max_length=TEXT_MAX, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), max_length=2000, blank=True)
    closing_at = models.DateTimeField(_("closing since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("departure operation")
        verbose_name_plural = _("departure operations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_approval", "open", "closing", "closed"]),
                name="departureop_status_valid",
            ),
            # Four eyes, in the database too: no operation runs without a second person.
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_approval"])
                | (Q(approved_by__isnull=False) & ~Q(approved_by=F("created_by"))),
                name="departureop_approved_by_second_person",
            ),
            # One departure at a time per country: citizens state one intent, staff read one
            # queue. A draft may wait beside it.
            models.UniqueConstraint(
                fields=["country"],
                condition=Q(status__in=["awaiting_approval", "open", "closing"]),
                name="departureop_one_live_per_country",
            ),
        ]
        indexes = [
            # operation_current_for_country: the live operation of a country.
            models.Index(fields=["country", "status"], name="departureop_country_status"),
        ]

    def __str__(self) -> str:
        return f"{self.country_id} {self.get_status_display()} {self.created_at:%Y-%m-%d}"

    def text(self, name: str, language: str) -> str:
        """One of the bilingual texts in the language, falling back to English."""
        french = getattr(self, f"{name}_fr") if language == "fr" else ""
        return french or getattr(self, f"{name}_en")


class DepartureOption(BaseModel):
    """A flight, charter or convoy, with its seats.

    `seats_taken` counts the seats of the live offers (offered or accepted): every service that
    changes it does so under the row lock (`SELECT ... FOR UPDATE`), and the CHECK below makes
    PostgreSQL refuse an overbooking whatever the code above it does.
    """

    class Kind(models.TextChoices):
        FLIGHT = "flight", _("Flight")
        CHARTER = "charter", _("Charter")
        CONVOY = "convoy", _("Road convoy")

    operation = models.ForeignKey(
        DepartureOperation,
        on_delete=models.CASCADE,
        related_name="options",
        verbose_name=_("operation"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    departs_at = models.DateTimeField(_("departs at"))
    place = models.CharField(_("from"), max_length=200)
    assembly_point = models.CharField(_("assembly point"), max_length=300)
    capacity = models.PositiveIntegerField(_("seats"))
    seats_taken = models.PositiveIntegerField(_("seats offered or accepted"), default=0)
    booking_cutoff = models.DateTimeField(_("booking cut-off"))
    notes = models.TextField(_("notes"), max_length=TEXT_MAX, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("added by"),
    )

    class Meta:
        ordering = ["departs_at", "created_at"]
        verbose_name = _("departure option")
        verbose_name_plural = _("departure options")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["flight", "charter", "convoy"]),
                name="departureoption_kind_valid",
            ),
            # No overbooking, and no seat offered twice: the counter of held seats never
            # exceeds the seats there are.
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity")),
                name="departureoption_not_overbooked",
            ),
            models.CheckConstraint(
                condition=Q(booking_cutoff__lte=F("departs_at")),
                name="departureoption_cutoff_before_departure",
            ),
            # A cancelled option holds no seat: its passengers went back to the queue.
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True) | Q(seats_taken=0),
                name="departureoption_cancelled_is_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.departs_at:%Y-%m-%d %H:%M} {self.place}"

    @property
    def seats_free(self) -> int:
        return self.capacity - self.seats_taken

    @property
    def reply_code(self) -> str:
        """What a text message answering an offer names the option by ("ACCEPT 3F9A1C"), as
        the offer message says: the start of its id. A reply is matched against the sender's
        own offers only, a handful, among which it does not repeat."""
        return self.id.hex[:6].upper()


class PriorityGroup(models.IntegerChoices):
    """Who goes first, first: the allocation serves the groups in this order, and within a
    group the order the intents arrived in."""

    MEDICAL = 1, _("Medical or mobility needs")
    CHILDREN = 2, _("Children")
    ELDERLY_OR_PREGNANT = 3, _("Elderly or pregnant")
    LEVEL_4 = 4, _("In a region at level 4")
    OTHER = 5, _("Everyone else")


class Intent(BaseModel):
    """A citizen's intent to leave with the operation, for themselves and chosen household
    members. One per citizen and operation: a second submission updates it.

    The facts the priority is computed from are kept as flags (whether someone has medical or
    mobility needs, is a child, is elderly or pregnant), so that the queue is ordered in the
    database; what the needs are is encrypted like the register."""

    operation = models.ForeignKey(
        DepartureOperation,
        on_delete=models.CASCADE,
        related_name="intents",
        verbose_name=_("operation"),
    )
    # Erasing a citizen keeps the operation's counts: the intent stays, without the person.
    citizen = models.ForeignKey(
        "registrations.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("citizen"),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("where they are now"),
    )
    earliest_date = models.DateField(_("earliest date"))
    people = models.PositiveIntegerField(_("people"))
    needs_assistance = models.BooleanField(_("medical or mobility needs"), default=False)
    assistance_details = EncryptedTextField(_("medical or mobility needs"), blank=True)
    minors_alone = models.BooleanField(_("minors travelling alone"), default=False)
    with_children = models.BooleanField(_("children travelling"), default=False)
    elderly_or_pregnant = models.BooleanField(_("elderly or pregnant"), default=False)
    priority_override = models.PositiveSmallIntegerField(
        _("priority set by staff"), choices=PriorityGroup.choices, null=True, blank=True
    )
    override_reason = models.CharField(_("reason for the priority"), max_length=300, blank=True)
    # The place in the queue within a priority group: the first submission's time, kept
    # through updates.
    submitted_at = models.DateTimeField(_("first submitted at"))

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("intent to leave")
        verbose_name_plural = _("intents to leave")
        constraints = [
            # One intent per citizen and operation: a second submission updates the first.
            models.UniqueConstraint(
                fields=["operation", "citizen"], name="intent_one_per_citizen_and_operation"
            ),
            models.CheckConstraint(condition=Q(people__gte=1), name="intent_people_positive"),
            models.CheckConstraint(
                condition=Q(priority_override__isnull=True)
                | Q(priority_override__gte=1, priority_override__lte=5),
                name="intent_priority_override_valid",
            ),
        ]
        indexes = [
            # queue_of_operation: an operation's intents in arrival order.
            models.Index(fields=["operation", "submitted_at"], name="intent_operation_arrival"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {str(self.id)[:8]}"


class Traveller(BaseModel):
    """One person of an intent, with what a manifest needs: the citizen themselves (no
    household member) or one of their registered household members."""

    class DocumentType(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        ID_CARD = "id_card", _("Identity card")
        EMERGENCY = "emergency", _("Emergency travel document")
        NONE = "none", _("None")

    intent = models.ForeignKey(
        Intent, on_delete=models.CASCADE, related_name="travellers", verbose_name=_("intent")
    )
    household_member = models.ForeignKey(
        "registrations.HouseholdMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household member"),
    )
    is_citizen = models.BooleanField(_("the citizen themselves"), default=False)
    nationality = EncryptedCharField(_("nationality"), max_length=60, blank=True)
    document_type = models.CharField(
        _("travel document"), max_length=10, choices=DocumentType.choices, blank=True
    )
    document_number = EncryptedCharField(_("document number"), max_length=40, blank=True)
    document_expiry = EncryptedDateField(_("document expiry"), null=True, blank=True)

    class Meta:
        ordering = ["-is_citizen", "created_at"]
        verbose_name = _("traveller")
        verbose_name_plural = _("travellers")
        constraints = [
            models.UniqueConstraint(
                fields=["intent"], condition=Q(is_citizen=True), name="traveller_one_citizen"
            ),
            models.UniqueConstraint(
                fields=["intent", "household_member"], name="traveller_member_once"
            ),
            models.CheckConstraint(
                condition=Q(document_type__in=["", "passport", "id_card", "emergency", "none"]),
                name="traveller_document_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {str(self.id)[:8]}"


# As `notifications.rendering.REFERENCE_LENGTH`: the offer's message carries it.
REFERENCE_LENGTH = 8


class Offer(BaseModel):
    """Seats on one option offered to one intent's whole party (families are never split),
    answered by a deadline. Offered and accepted offers hold their seats in the option's
    `seats_taken`; declined, expired and withdrawn ones gave them back."""

    class State(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    LIVE_STATES = (State.OFFERED, State.ACCEPTED)

    intent = models.ForeignKey(
        Intent, on_delete=models.CASCADE, related_name="offers", verbose_name=_("intent")
    )
    option = models.ForeignKey(
        DepartureOption, on_delete=models.CASCADE, related_name="offers", verbose_name=_("option")
    )
    seats = models.PositiveIntegerField(_("seats"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OFFERED
    )
    # The place in the allocation run that made it: a capacity cut withdraws from the end.
    rank = models.PositiveIntegerField(_("rank"), default=0)
    deadline = models.DateTimeField(_("answer by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # "I have arrived", from the citizen once the party boarded: the loop closed.
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("why it was withdrawn"), max_length=300, blank=True)
    # What the person shows at the assembly point: the reference their offer's message carries
    # (`notifications.rendering.message_reference`), which names no one; the QR code on their
    # page encodes it. Empty for a party whose citizen was erased before any message.
    reference = models.CharField(_("reference"), max_length=REFERENCE_LENGTH, blank=True)

    class Meta:
        ordering = ["created_at", "rank"]
        verbose_name = _("seat offer")
        verbose_name_plural = _("seat offers")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["offered", "accepted", "declined", "expired", "withdrawn"]),
                name="offer_state_valid",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="offer_seats_positive"),
            # A party holds seats on one option at a time: never two live offers.
            models.UniqueConstraint(
                fields=["intent"],
                condition=Q(state__in=["offered", "accepted"]),
                name="offer_one_live_per_intent",
            ),
            # An option is offered to a party once: a declined or lapsed offer is not made
            # again by the next run.
            models.UniqueConstraint(fields=["intent", "option"], name="offer_once_per_option"),
            # The check-in finds a party on an option by its reference: two alike (40 bits, a
            # few hundred people per option) would make the run that drew them fail, not
            # board the wrong family.
            models.UniqueConstraint(
                fields=["option", "reference"],
                condition=~Q(reference=""),
                name="offer_reference_unique_per_option",
            ),
            models.CheckConstraint(
                condition=Q(reference="") | Q(reference__regex=r"^[0-9A-Z]{8}$"),
                name="offer_reference_format",
            ),
        ]
        indexes = [
            # offers_expire: the open offers past their deadline.
            models.Index(
                fields=["deadline"], condition=Q(state="offered"), name="offer_open_deadline"
            ),
            # Seats per option and state (the board, a capacity change, a cancellation).
            models.Index(fields=["option", "state"], name="offer_option_state"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {str(self.id)[:8]} {self.state}"


class Boarding(BaseModel):
    """One person of an accepted offer at the assembly point: present, boarded or not come.

    One row per person and offer, moved forward by staff (present -> boarded, or no-show,
    and a late no-show may still be checked in); boarding is final. The citizen's boarding
    ends their presence in the country; a household member's is their record of leaving."""

    class State(models.TextChoices):
        PRESENT = "present", _("Present")
        BOARDED = "boarded", _("Boarded")
        NO_SHOW = "no_show", _("No-show")

    offer = models.ForeignKey(
        Offer, on_delete=models.CASCADE, related_name="boardings", verbose_name=_("seat offer")
    )
    traveller = models.ForeignKey(
        Traveller, on_delete=models.CASCADE, related_name="boardings", verbose_name=_("traveller")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("marked by"),
    )
    present_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    boarded_at = models.DateTimeField(_("boarded at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("boarding")
        verbose_name_plural = _("boardings")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["present", "boarded", "no_show"]),
                name="boarding_state_valid",
            ),
            # Boarding someone twice (two officers, a double tap) is one record.
            models.UniqueConstraint(
                fields=["offer", "traveller"], name="boarding_once_per_offer_and_traveller"
            ),
            models.CheckConstraint(
                condition=~Q(state="boarded") | Q(boarded_at__isnull=False),
                name="boarding_boarded_has_time",
            ),
        ]
        # The board's counts and the check-in list read the boardings of one option's offers,
        # through the (offer, traveller) unique index.

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {str(self.id)[:8]} {self.state}"
