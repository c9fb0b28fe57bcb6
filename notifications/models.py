from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField, EncryptedTextField, KeyedHashField
from core.models import BaseModel


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Alert(BaseModel):
    """One trigger (a published level change, or a staff message) sent to the people present
    in its regions. Its deliveries are the ledger of what happened to each message."""

    class Kind(models.TextChoices):
        LEVEL_CHANGE = "level_change", _("Risk level change")
        STAFF_MESSAGE = "staff_message", _("Staff message")
        # Carries its own texts (safety checks, a message to one citizen from a case).
        MESSAGE = "message", _("Message")

    class Audience(models.TextChoices):
        CITIZENS = "citizens", _("Citizens")
        EMERGENCY_CONTACTS = "emergency_contacts", _("Their emergency contacts")

    class State(models.TextChoices):
        # A staff message is written, then approved by a second person, before it is sent.
        DRAFT = "draft", _("Draft")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        FANNING_OUT = "fanning_out", _("Finding recipients")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.FANNING_OUT
    )
    country = models.ForeignKey(
        "regions.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("country")
    )
    advisory = models.ForeignKey(
        "advisories.Advisory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("advisory"),
    )
    # [{"region_code": "ML-7", "old_level": 3, "new_level": 4}, ...]
    changes = models.JSONField(_("changes"), default=list)
    region_codes = models.JSONField(_("regions"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Message alerts: {"en": {"subject": ..., "text": ..., "sms": ...}, "fr": {...}}.
    texts = models.JSONField(_("texts"), default=dict, blank=True)
    # Message alerts to named citizens rather than to the people present in regions.
    citizen_ids = models.JSONField(_("citizens"), default=list, blank=True)
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience.choices, default=Audience.CITIZENS
    )
    send_email = models.BooleanField(_("by email"), default=True)
    send_sms = models.BooleanField(_("by text message"), default=True)
    # A link per recipient: "{token}" becomes a signed (alert, citizen) token.
    response_url_template = models.CharField(
        _("response link"), max_length=300, blank=True, default=""
    )
    # The second person who let a staff message go; kept (PROTECT) as the record of who did.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True, default="")
    fanned_out_at = models.DateTimeField(_("recipients found at"), null=True, blank=True)
    # When its rows' send tasks were published: the sweeper publishes them for an alert whose
    # rows were written but whose process died before it could.
    enqueued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # What the fan-out wrote: a message per person and channel, so someone reached by email
    # and SMS counts once in `people` and twice in `messages`.
    people = models.PositiveIntegerField(_("people"), default=0)
    messages = models.PositiveIntegerField(_("messages"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The text confirming an opt-out (STOP) goes to the channel the citizen has just stopped:
    # the one message the fan-out and the hand-off send despite an opt-out (never despite a
    # bounce or a complaint). Set by `replies` only; alert_opt_out_confirmation_shape keeps
    # every other alert from using it.
    confirms_opt_out = models.BooleanField(_("confirms an opt-out"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # A redelivered RiskLevelChanged event finds the alert it already created.
            models.UniqueConstraint(
                fields=["advisory"],
                condition=Q(kind="level_change"),
                name="alert_one_per_advisory_publication",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["staff_message", "message"]) | Q(advisory__isnull=False),
                name="alert_level_change_has_advisory",
            ),
            # Only staff messages wait for a second person; every other alert starts fanning out.
            models.CheckConstraint(
                condition=Q(kind="staff_message") | ~Q(state__in=["draft", "awaiting_approval"]),
                name="alert_draft_only_staff_message",
            ),
            # Four eyes: a staff message is sent only once someone other than its author
            # approved it (a draft may be cancelled unapproved).
            models.CheckConstraint(
                condition=~Q(kind="staff_message")
                | Q(state__in=["draft", "awaiting_approval", "cancelled"])
                | Q(approved_by__isnull=False),
                name="alert_staff_message_approved",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(created_by__isnull=True)
                | ~Q(approved_by=F("created_by")),
                name="alert_approver_not_author",
            ),
            # Only the confirmation of an opt-out passes an opt-out: a text message of the
            # system's own (nobody wrote it, no link) to named citizens, never to regions, to
            # emergency contacts or by email. That it names one citizen is the service's
            # promise: a JSON array's length has no portable check.
            models.CheckConstraint(
                condition=Q(confirms_opt_out=False)
                | (
                    Q(kind="message", audience="citizens", send_email=False, send_sms=True)
                    & Q(created_by__isnull=True, response_url_template="", region_codes=[])
                    & ~Q(citizen_ids=[])
                ),
                name="alert_opt_out_confirmation_shape",
            ),
        ]
        indexes = [
            # Sweeper: alerts whose fan-out was never run (crash before enqueue).
            models.Index(
                fields=["created_at"],
                condition=Q(state="fanning_out"),
                name="alert_fanning_out_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.country_id} · {self.created_at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One message of one alert to one citizen on one channel: the ledger's row.

    Status only moves forward: pending -> sending (claimed under a lease) -> sent (the provider
    accepted it and gave an id) -> delivered | bounced | failed. A row whose lease expired after
    its hand-off began becomes ambiguous: it may have left, so it is counted, never resent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")
        AMBIGUOUS = "ambiguous", _("Ambiguous")
        CANCELLED = "cancelled", _("Cancelled")

    # Big integer keys: a national crisis writes millions of rows, and task messages carry
    # chunks of these ids.
    id = models.BigAutoField(primary_key=True)
    # No index of its own: the ledger's (alert, channel, status) index starts with the alert,
    # and every index is paid on each of a fan-out's million inserts.
    # No foreign key in the database either: PostgreSQL checked it once per row at commit, a
    # large share of a fan-out's time (docs/performance.md). Rows are written only by the
    # fan-out, for the alert whose row it holds locked in the same transaction; alerts are
    # never deleted but through the ORM, which deletes their rows first.
    alert = models.ForeignKey(
        Alert,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("alert"),
        db_constraint=False,
        db_index=False,
    )
    # Erasing a citizen keeps the ledger's counts but drops the link to the person.
    # No foreign key in the database: checking one locks each citizen row a fan-out writes to,
    # and took longer than writing the rows (docs/performance.md). Rows are written only by
    # the fan-out, from the register in the same statement; erasure unlinks them, and the two
    # exclude each other (`services.ledger_lock`). No index of its own either: the ledger's
    # unique key starts with the citizen.
    citizen = models.ForeignKey(
        "registrations.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("citizen"),
        db_constraint=False,
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    region_code = models.CharField(_("region"), max_length=6, blank=True, default="")
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    # Who holds the row until then: a worker that claimed it (sending), or the queue its send
    # task waits in (pending); the sweeper takes back a row whose lease ran out.
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    handoff_at = models.DateTimeField(_("handed to provider at"), null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True, default="")
    error_code = models.CharField(_("error code"), max_length=50, blank=True, default="")
    error_reason = models.CharField(_("error reason"), max_length=500, blank=True, default="")
    segments = models.PositiveSmallIntegerField(_("SMS segments"), default=0)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            # Never two messages of one alert to one person on one channel, whatever the
            # retries, redeliveries or concurrent fan-outs.
            # Led by the citizen, it also finds a person's rows (erasure, export).
            models.UniqueConstraint(
                fields=["citizen", "alert", "channel"], name="delivery_once_per_alert_citizen"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="delivery_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | ~Q(provider_id=""),
                name="delivery_sent_has_provider_id",
            ),
        ]
        indexes = [
            # Alert progress: counts by channel and status of one alert.
            models.Index(fields=["alert", "channel", "status"], name="delivery_alert_status_idx"),
            # Sweeper: pending rows whose next attempt has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_due_idx",
            ),
            # Sweeper: claimed rows whose lease expired.
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="sending"),
                name="delivery_lease_idx",
            ),
            # Provider receipts find their row by the provider's id.
            models.Index(
                fields=["channel", "provider_id"],
                condition=~Q(provider_id=""),
                name="delivery_provider_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.id} ({self.status})"


class Suppression(BaseModel):
    """A channel the citizen asked us to stop using (STOP), or that hard-bounced. Fan-out skips
    it; START lifts an opt-out."""

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Opted out")
        BOUNCE = "bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Complaint")

    citizen = models.ForeignKey(
        "registrations.Citizen",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("citizen"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        constraints = [
            models.UniqueConstraint(fields=["citizen", "channel"], name="suppression_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} · {self.get_reason_display()}"


class InboundMessage(BaseModel):
    """A text message a citizen sent us (a reply to an alert or a safety check)."""

    provider = models.CharField(_("provider"), max_length=30)
    provider_id = models.CharField(_("provider id"), max_length=200)
    # Encrypted at rest like the register (core.crypto): the number and what a citizen wrote.
    sender = EncryptedCharField(_("from"), max_length=32)
    # An erasure finds the texts a person's number sent that matched no one at the time.
    sender_hash = KeyedHashField(source="sender", kind="phone", db_index=True)
    body = EncryptedTextField(_("text"))
    citizen = models.ForeignKey(
        "registrations.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("citizen"),
    )
    # Set in the transaction that acts on the reply: an InboundSmsReceived relayed twice, or
    # its task redelivered, finds it set and records nothing again.
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            # Providers retry webhooks: the same message is stored once.
            models.UniqueConstraint(
                fields=["provider", "provider_id"], name="inbound_once_per_provider_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_id}"


class OutboxMessage(models.Model):
    """A message the development backends kept instead of sending, shown at /outbox/."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=320)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self) -> str:
        return f"{self.channel} → {self.to}"
