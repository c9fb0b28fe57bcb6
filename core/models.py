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
