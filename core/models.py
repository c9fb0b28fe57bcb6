import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """A public uuid as primary key, so ids in URLs and task messages reveal nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One thing a person did: a staff write, a read of personal data, an export, a sign-in.

    Append-only: nothing in the code updates or deletes a row, and on PostgreSQL a trigger makes
    the database refuse it too (migration 0002), except clearing `user` when a staff account is
    deleted: `username` keeps who it was. `detail` holds names and codes, never personal data.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")

    occurred_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    post_code = models.CharField(_("post"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            # The admin's listing, newest first, and its date filter.
            models.Index(fields=["-occurred_at"], name="auditevent_occurred"),
            # "Who touched this record?": events of one object.
            models.Index(fields=["object_type", "object_id"], name="auditevent_object"),
            # "What did this person do?": events of one username, newest first.
            models.Index(fields=["username", "-occurred_at"], name="auditevent_username"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"


class OutboxEvent(models.Model):
    """A domain event, written in the transaction of the change it reports (`core.events`).

    The row exists if and only if that change committed. It is dispatched right after the
    commit by the process that wrote it, or by the relay when that process died or a handler
    failed; `next_attempt_at` is both the claim's lease and the retry's backoff. `payload`
    holds ids, codes and levels only, never personal data (`core.events.register` refuses any
    other field). Dispatched rows are kept for EVENT_RETENTION_DAYS, then the relay deletes
    them."""

    name = models.CharField(_("event"), max_length=100)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    # The failing handler and the exception's class, never its message (it may quote data).
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            # The relay: events not yet dispatched whose time has come, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="outboxevent_due",
            ),
            # The retention sweep: dispatched events older than the retention.
            models.Index(
                fields=["dispatched_at"],
                condition=models.Q(dispatched_at__isnull=False),
                name="outboxevent_dispatched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"
