from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from advisories.events import Notify
from core.models import BaseModel


class Level(models.IntegerChoices):
    """One internal ordinal; each language's scheme names it (see `advisories.levels`)."""

    NORMAL = 1, _("Exercise normal precautions")
    INCREASED = 2, _("Exercise increased caution")
    RECONSIDER = 3, _("Reconsider travel")
    DO_NOT_TRAVEL = 4, _("Do not travel")


class Posture(models.TextChoices):
    NORMAL = "normal", _("Normal operations")
    AUTHORIZED_DEPARTURE = "authorized_departure", _("Authorized departure")
    ORDERED_DEPARTURE = "ordered_departure", _("Ordered departure")
    SUSPENDED = "suspended", _("Suspended operations")


class Indicator(models.TextChoices):
    CRIME = "crime", _("Crime")
    TERRORISM = "terrorism", _("Terrorism")
    CIVIL_UNREST = "civil_unrest", _("Civil unrest")
    HEALTH = "health", _("Health")
    NATURAL_DISASTER = "natural_disaster", _("Natural disaster")
    TIME_LIMITED_EVENT = "time_limited_event", _("Time-limited event")
    KIDNAPPING = "kidnapping", _("Kidnapping")
    WRONGFUL_DETENTION = "wrongful_detention", _("Wrongful detention")
    OTHER = "other", _("Other")


LEVEL_RANGE = models.Q(country_level__gte=1, country_level__lte=4)


class LocalizedTextMixin:
    """Reads `<field>_en` / `<field>_fr` in the active language, English when untranslated."""

    def localized(self, field: str, language: str | None = None) -> str:
        language = language or get_language() or "en"
        french: str = getattr(self, f"{field}_fr")
        if language.startswith("fr") and french:
            return french
        english: str = getattr(self, f"{field}_en")
        return english


class Advisory(LocalizedTextMixin, BaseModel):
    """One version of a country's travel advisory. Drafts are edited; from publication on a
    version is immutable and is superseded by the next one (or withdrawn)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        SCHEDULED = "scheduled", _("Approved, scheduled")
        PUBLISHED = "published", _("Published (current)")
        SUPERSEDED = "superseded", _("Superseded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    country = models.ForeignKey(
        "regions.Country",
        on_delete=models.PROTECT,
        related_name="advisories",
        verbose_name=_("country"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    # Numbered per country at publication, so the public history reads "version 3".
    version = models.PositiveIntegerField(_("version"), null=True, blank=True, editable=False)
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started from"),
    )
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supersedes"),
    )
    country_level = models.PositiveSmallIntegerField(
        _("country level"), choices=Level.choices, default=Level.NORMAL
    )
    indicators = models.JSONField(_("risk indicators"), default=list, blank=True)
    posture = models.CharField(
        _("staffing posture"), max_length=30, choices=Posture.choices, default=Posture.NORMAL
    )
    assistance_note_en = models.TextField(_("assistance note (English)"), blank=True)
    assistance_note_fr = models.TextField(_("assistance note (French)"), blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    summary_fr = models.TextField(_("summary (French)"), blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    body_fr = models.TextField(_("body (French)"), blank=True)
    instructions_en = models.TextField(_("instructions (English)"), blank=True)
    instructions_fr = models.TextField(_("instructions (French)"), blank=True)
    change_note_en = models.CharField(_("change note (English)"), max_length=500, blank=True)
    change_note_fr = models.CharField(_("change note (French)"), max_length=500, blank=True)
    # Set by the editor, seen by the approver; a new draft starts at the routine default.
    notify = models.CharField(
        _("who is told"), max_length=20, choices=Notify.choices, default=Notify.LEVEL_CHANGES
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="advisories_authored",
        verbose_name=_("author"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="advisories_submitted",
        verbose_name=_("submitted by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="advisories_approved",
        verbose_name=_("approved by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    scheduled_for = models.DateTimeField(_("publish at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("advisory")
        verbose_name_plural = _("advisories")
        constraints = [
            models.CheckConstraint(condition=LEVEL_RANGE, name="advisory_level_1_4"),
            # A country has one current advisory: two concurrent publications cannot both win.
            models.UniqueConstraint(
                fields=["country"],
                condition=models.Q(status="published"),
                name="advisory_one_current_per_country",
            ),
            models.UniqueConstraint(
                fields=["country", "version"],
                condition=models.Q(version__isnull=False),
                name="advisory_version_unique_per_country",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["draft", "submitted", "scheduled"], published_at__isnull=True
                )
                | models.Q(
                    status__in=["published", "superseded"],
                    published_at__isnull=False,
                    version__isnull=False,
                )
                | models.Q(status="withdrawn"),
                name="advisory_published_has_time_and_version",
            ),
        ]
        indexes = [
            # The public history and feeds: a country's published versions, newest first.
            models.Index(fields=["country", "-published_at"], name="advisory_country_published"),
            # The beat task: scheduled versions whose time has come.
            models.Index(
                fields=["scheduled_for"],
                condition=models.Q(status="scheduled"),
                name="advisory_scheduled_due",
            ),
        ]

    def __str__(self) -> str:
        label = f"v{self.version}" if self.version else self.get_status_display()
        return f"{self.country_id} · {label} · {self.get_country_level_display()}"

    @property
    def change_note(self) -> str:
        return self.localized("change_note")

    @property
    def is_public(self) -> bool:
        """Published once: it stays in the public history after being superseded or withdrawn."""
        return self.published_at is not None


class RegionOverride(LocalizedTextMixin, BaseModel):
    """A region's level in one advisory version, when it differs from the country level.
    Nested subdivisions inherit it unless they have their own."""

    advisory = models.ForeignKey(
        Advisory, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("advisory")
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    note_en = models.CharField(_("note (English)"), max_length=500, blank=True)
    note_fr = models.CharField(_("note (French)"), max_length=500, blank=True)

    class Meta:
        ordering = ["region_id"]
        verbose_name = _("region level")
        verbose_name_plural = _("region levels")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=4), name="override_level_1_4"
            ),
            models.UniqueConstraint(fields=["advisory", "region"], name="override_unique_region"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id}: {self.level}"

    @property
    def note(self) -> str:
        return self.localized("note")


class LevelChange(models.Model):
    """What a publication changed, recorded with it: the history, the feeds and the event
    all read the same (old, new) per region."""

    advisory = models.ForeignKey(
        Advisory, on_delete=models.CASCADE, related_name="level_changes", verbose_name=_("advisory")
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    old_level = models.PositiveSmallIntegerField(_("old level"), null=True, blank=True)
    new_level = models.PositiveSmallIntegerField(_("new level"))

    class Meta:
        ordering = ["region_id"]
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        constraints = [
            models.UniqueConstraint(fields=["advisory", "region"], name="level_change_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id}: {self.old_level} -> {self.new_level}"


class Transition(models.Model):
    """The audit trail: every workflow step, who took it, when, and why."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        EDIT = "edit", _("Edited")
        SUBMIT = "submit", _("Submitted")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        PUBLISH = "publish", _("Published")
        SUPERSEDE = "supersede", _("Superseded")
        WITHDRAW = "withdraw", _("Withdrawn")

    advisory = models.ForeignKey(
        Advisory, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("advisory")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    # Empty when the beat task publishes a scheduled version.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")

    def __str__(self) -> str:
        return f"{self.advisory_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"
