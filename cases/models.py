from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField, EncryptedTextField, RowKeyField
from core.models import BaseModel


class SafetyCheck(BaseModel):
    """ "Are you safe?" asked of everyone present in some regions, answered until a deadline."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    STARTED_STATUSES = (Status.OPEN, Status.CLOSED)

    code = models.CharField(_("reference code"), max_length=8, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    country = models.ForeignKey(
        "regions.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("country")
    )
    region_codes = models.JSONField(_("regions"), default=list)
    # The level-change alert that prompted the check, if one did.
    alert = models.ForeignKey(
        "notifications.Alert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("alert"),
    )
    # The message that asked the question.
    question_alert = models.ForeignKey(
        "notifications.Alert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("question message"),
    )
    reminder_alert = models.ForeignKey(
        "notifications.Alert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reminder message"),
    )
    question_en = models.CharField(_("question (English)"), max_length=300)
    question_fr = models.CharField(_("question (French)"), max_length=300)
    deadline = models.DateTimeField(_("deadline"))
    send_email = models.BooleanField(_("by email"), default=True)
    send_sms = models.BooleanField(_("by text message"), default=True)
    reminder_minutes = models.PositiveIntegerField(
        _("remind after (minutes)"), null=True, blank=True, default=120
    )
    escalate_to_emergency_contact = models.BooleanField(
        _("then write to the emergency contact"), default=True
    )
    open_case_on_no_response = models.BooleanField(
        _("open a case for each person who did not answer"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # The second person, whose approval started the check; kept (PROTECT) as long as the check.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    # Started by its author alone, under their post's urgent mode (accounts.Post).
    started_alone = models.BooleanField(
        _("started without a second person (urgent mode)"), default=False
    )
    # When the question went out: the reminder and the escalation count from here.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(
        _("emergency contacts written to at"), null=True, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("safety check")
        verbose_name_plural = _("safety checks")
        constraints = [
            # Four eyes: nobody is asked until someone other than the author approved the
            # check, or the author started it alone under their post's urgent mode.
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_approval"])
                | Q(started_alone=True)
                | (Q(approved_by__isnull=False) & ~Q(approved_by=F("created_by"))),
                name="check_started_approved_by_another",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_approval"])
                | Q(started_at__isnull=False),
                name="check_started_has_start_time",
            ),
        ]
        indexes = [
            # The beat task: open checks, for reminders and deadlines.
            models.Index(fields=["deadline"], condition=Q(status="open"), name="check_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.country_id} · {self.created_at:%Y-%m-%d}"

    @property
    def is_started(self) -> bool:
        return self.status in self.STARTED_STATUSES

    @property
    def approval_note(self) -> str:
        """Who let the check go, as staff pages, the admin and the API show it (read
        `approved_by` with the check: select_related)."""
        if self.started_alone:
            return str(_("Started without a second person (urgent mode)"))
        if self.approved_by is not None:
            return str(_("Approved by %(name)s") % {"name": self.approved_by.get_username()})
        return ""


class SafetyResponse(models.Model):
    """Where one person asked by a check stands. The latest answer wins; at the deadline the
    ones still pending become "no response"."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not answered yet")
        SAFE = "safe", _("Safe")
        NEEDS_HELP = "needs_help", _("Needs help")
        NO_RESPONSE = "no_response", _("No response")

    class HelpKind(models.TextChoices):
        EVACUATION = "evacuation", _("Evacuation")
        MEDICAL = "medical", _("Medical")
        DOCUMENTS = "documents", _("Documents")
        OTHER = "other", _("Other")

    class Via(models.TextChoices):
        SMS = "sms", _("Text message")
        WEB = "web", _("Link")
        STAFF = "staff", _("Staff")

    id = models.BigAutoField(primary_key=True)
    # What the encrypted texts are bound to: the id is not known before the INSERT.
    row_key = RowKeyField()
    safety_check = models.ForeignKey(
        SafetyCheck,
        on_delete=models.CASCADE,
        related_name="responses",
        verbose_name=_("safety check"),
    )
    # Erasing a citizen keeps the check's counts: the answer stays, anonymised (the link to
    # the person, where they were and what they wrote are cleared).
    citizen = models.ForeignKey(
        "registrations.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("citizen"),
    )
    region_code = models.CharField(_("region"), max_length=6, blank=True, default="")
    # The citizen and their household, counted when the check started.
    people = models.PositiveIntegerField(_("people"), default=1)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    via = models.CharField(_("answered by"), max_length=10, choices=Via.choices, blank=True)
    people_with_them = models.PositiveIntegerField(_("people with them"), null=True, blank=True)
    # What a person wrote about themselves is encrypted at rest like the register (core.crypto).
    location = EncryptedCharField(_("where"), max_length=300, blank=True)
    help_kind = models.CharField(
        _("help needed"), max_length=12, choices=HelpKind.choices, blank=True
    )
    details = EncryptedTextField(_("details"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("safety check response")
        verbose_name_plural = _("safety check responses")
        constraints = [
            # One standing per person and check: a later answer updates it.
            models.UniqueConstraint(
                fields=["safety_check", "citizen"], name="response_once_per_check_citizen"
            ),
        ]
        indexes = [
            # The board: counts by status and region of one check.
            models.Index(
                fields=["safety_check", "status", "region_code"], name="response_board_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.safety_check_id} · {self.get_status_display()}"


class Case(BaseModel):
    """A person (and those with them) the post is working to help, from opening to closing."""

    class Kind(models.TextChoices):
        EVACUATION = "evacuation", _("Evacuation")
        MEDICAL = "medical", _("Medical")
        ARREST = "arrest", _("Arrest or detention")
        DOCUMENTS = "documents", _("Lost documents")
        WELFARE = "welfare", _("Welfare and whereabouts")
        OTHER = "other", _("Other")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        NEEDS_HELP = "needs_help", _("Asked for help in a safety check")
        NO_RESPONSE = "no_response", _("No response to a safety check")
        CITIZEN = "citizen", _("Asked for help")
        STAFF = "staff", _("Opened by staff")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    post = models.ForeignKey(
        "accounts.Post", on_delete=models.PROTECT, related_name="+", verbose_name=_("post")
    )
    country = models.ForeignKey(
        "regions.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("country")
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    # Erasing a citizen keeps the case's history but drops the link to the person.
    citizen = models.ForeignKey(
        "registrations.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("citizen"),
    )
    household_members = models.ManyToManyField(
        "registrations.HouseholdMember",
        blank=True,
        related_name="+",
        verbose_name=_("household members concerned"),
    )
    safety_check = models.ForeignKey(
        SafetyCheck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("safety check"),
    )
    # Staff's own words about the person, encrypted at rest (core.crypto), as are the
    # timeline's texts. Empty for a case the system opened: its summary is said from its
    # source and safety check, in the reader's language (`summary_text`).
    summary = EncryptedCharField(_("summary"), max_length=300, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.IN_PROGRESS)

    class Meta:
        ordering = ["-priority", "created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            # Every "needs help" or "no response" has one open case, whatever the repeats.
            models.UniqueConstraint(
                fields=["safety_check", "citizen"],
                condition=Q(status__in=["new", "contacted", "in_progress"])
                & Q(safety_check__isnull=False),
                name="case_one_open_per_check_citizen",
            ),
        ]
        indexes = [
            # The case queue of a post, filtered by status.
            models.Index(fields=["post", "status", "-priority"], name="case_queue_idx"),
        ]

    def __str__(self) -> str:
        # Not the summary: the admin copies this into its change history, which is not
        # encrypted.
        return f"{self.get_kind_display()} {str(self.id)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def summary_text(self) -> str:
        """What the case is about, in the active language (read `safety_check` with the
        case)."""
        if self.summary:
            return self.summary
        code = self.safety_check.code if self.safety_check else ""
        if self.source == self.Source.NEEDS_HELP:
            return str(_("Asked for help in safety check %(code)s") % {"code": code})
        if self.source == self.Source.NO_RESPONSE:
            return str(_("No answer to safety check %(code)s") % {"code": code})
        return str(self.get_source_display())

    @property
    def reference(self) -> str:
        """What the citizen quotes on the phone: the first eight characters of the random id,
        which `__str__` (and so the admin) shows as well."""
        return str(self.id)[:8].upper()


class CaseEvent(models.Model):
    """One line of a case's timeline: opened, a status change, an assignment, a note, a call,
    a message sent, an answer from the citizen."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        MESSAGE = "message", _("Message sent")
        RESPONSE = "response", _("Answer from the citizen")
        # The citizen's data was erased: the texts above now read "[erased]".
        ERASED = "erased", _("Citizen's data erased")

    id = models.BigAutoField(primary_key=True)
    # What the encrypted text is bound to: the id is not known before the INSERT.
    row_key = RowKeyField()
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    text = EncryptedTextField(_("text"), blank=True)
    # Codes and ids only (old and new status, the alert of a message).
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"
