from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel

LEVEL_RANGE = Q(level__gte=1, level__lte=4)


class PartnerAdvice(BaseModel):
    """What one partner government advises for one country now, on our scale, with its own
    words kept. One row per source and country, updated in place by each fetch."""

    class Scope(models.TextChoices):
        WHOLE = "whole", _("Whole country")
        PARTS = "parts", _("Parts of the country")

    source = models.CharField(_("source"), max_length=20)
    country = models.ForeignKey(
        "regions.Country", on_delete=models.CASCADE, related_name="+", verbose_name=_("country")
    )
    # What the partner says at least, and at most when its words span two of our levels (the
    # FCDO's "no advice against travel" is our 1 or 2): see peers/levels.py.
    level = models.PositiveSmallIntegerField(_("level"))
    level_max = models.PositiveSmallIntegerField(_("level at most"))
    label = models.CharField(_("source's label"), max_length=200)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    # The partner has advice for regions of the country (Canada says so; others may name them).
    has_regional_advice = models.BooleanField(_("regional advice"), default=False)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    key_risks = models.JSONField(_("key risks"), default=list, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    link = models.URLField(_("link"), max_length=500)
    source_published_at = models.DateTimeField(_("published by the source"), null=True)
    source_updated_at = models.DateTimeField(_("updated by the source"), null=True)
    # What the source's own change marker was (a date as it wrote it): the UK source fetches
    # a country's page again only when its index shows another.
    source_marker = models.CharField(_("source's change marker"), max_length=100, blank=True)
    fetched_at = models.DateTimeField(_("fetched at"))
    # When we first saw this level (or the advice at all), and the level before it: a change
    # that leaves the partner above us warns the post once (PeerWarning).
    level_changed_at = models.DateTimeField(_("level changed at"))
    previous_level = models.PositiveSmallIntegerField(_("previous level"), null=True)

    class Meta:
        ordering = ["country_id", "source"]
        verbose_name = _("partner advice")
        verbose_name_plural = _("partner advice")
        constraints = [
            models.UniqueConstraint(fields=["source", "country"], name="partner_advice_unique"),
            models.CheckConstraint(condition=LEVEL_RANGE, name="partner_advice_level_1_4"),
            models.CheckConstraint(
                condition=Q(level_max__gte=F("level"), level_max__lte=4),
                name="partner_advice_level_max_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} · {self.country_id} · {self.level}"


class SourceState(models.Model):
    """How fetching one source goes: its validators for a conditional request, the last
    success and error, and the backoff after consecutive failures."""

    source = models.CharField(_("source"), max_length=20, primary_key=True)
    etag = models.CharField(_("ETag"), max_length=200, blank=True)
    last_modified = models.CharField(_("Last-Modified"), max_length=100, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True)
    last_success_at = models.DateTimeField(_("last success"), null=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True)

    class Meta:
        ordering = ["source"]
        verbose_name = _("partner source")
        verbose_name_plural = _("partner sources")

    def __str__(self) -> str:
        return self.source


class PeerWarning(BaseModel):
    """A partner's change that left it above our level, told by email to the editors and
    approvers of the posts covering the country. One per change: the unique key is the
    advice and the moment its level changed, so a second fetch of the same change, or a
    redelivered task, writes nothing."""

    advice = models.ForeignKey(
        PartnerAdvice, on_delete=models.CASCADE, related_name="warnings", verbose_name=_("advice")
    )
    level_changed_at = models.DateTimeField(_("level changed at"))
    level = models.PositiveSmallIntegerField(_("partner's level"))
    previous_level = models.PositiveSmallIntegerField(_("partner's previous level"), null=True)
    our_level = models.PositiveSmallIntegerField(_("our level"), null=True)
    sent_at = models.DateTimeField(_("sent at"), null=True)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("disagreement warning")
        verbose_name_plural = _("disagreement warnings")
        constraints = [
            models.UniqueConstraint(
                fields=["advice", "level_changed_at"], name="peer_warning_once_per_change"
            ),
            models.CheckConstraint(condition=LEVEL_RANGE, name="peer_warning_level_1_4"),
        ]
        indexes = [
            # The sweep for warnings not sent yet (`peer_warnings_unsent`).
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="peer_warning_unsent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.advice} · {self.level_changed_at:%Y-%m-%d %H:%M}"
