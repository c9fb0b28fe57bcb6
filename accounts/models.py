import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Give a time zone by its IANA name, such as Africa/Bamako."))


class User(AbstractUser):
    """A member of consular staff (citizens have no account: they use signed links)."""

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")


class Post(BaseModel):
    """An embassy or consulate, and the countries it is responsible for."""

    class Kind(models.TextChoices):
        EMBASSY = "embassy", _("Embassy")
        CONSULATE = "consulate", _("Consulate")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.EMBASSY)
    city = models.CharField(_("city"), max_length=100)
    email = models.EmailField(_("public email"), blank=True)
    phone = models.CharField(_("public phone"), max_length=40, blank=True)
    emergency_phone = models.CharField(_("24/7 emergency phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    # Staff pages show times in their post's zone, named, so that a deadline read in Bamako
    # is not an hour off (templates/staff/_nav.html says which zone is in force).
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("The IANA name of the post's time zone, such as Africa/Bamako."),
    )
    # Off by default: a safety check then needs a second person's approval before anyone is
    # asked, like any other message to a region (docs/design.md, "Safety checks").
    urgent_safety_checks = models.BooleanField(
        _("urgent mode for safety checks"),
        default=False,
        help_text=_(
            "One officer may start a safety check alone, without a second person's approval. "
            "Each such start is recorded in the audit trail and shown on the check."
        ),
    )
    countries = models.ManyToManyField(
        "regions.Country", related_name="posts", blank=True, verbose_name=_("countries covered")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    """A staff member's role at a post; one person may hold several roles at several posts."""

    class Role(models.TextChoices):
        OFFICER = "officer", _("Consular officer")
        EDITOR = "editor", _("Advisory editor")
        APPROVER = "approver", _("Advisory approver")
        ADMIN = "admin", _("Post administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("staff member"),
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("post")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["post__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "post", "role"], name="membership_unique_role"),
            models.CheckConstraint(
                condition=models.Q(role__in=["officer", "editor", "approver", "admin"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.post}"
