from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts.models import Membership, Post, User
from core.audit import AuditedModelAdminMixin
from core.models import AuditEvent


class MembershipInline(admin.TabularInline[Membership, Post]):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Post)
class PostAdmin(AuditedModelAdminMixin, admin.ModelAdmin[Post]):
    list_display = ["code", "name", "kind", "city", "time_zone", "urgent_safety_checks"]
    search_fields = ["code", "name", "city"]
    filter_horizontal = ["countries"]
    inlines = [MembershipInline]


class UserMembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 1
    autocomplete_fields = ["post"]


@admin.register(User)
class UserAdmin(AuditedModelAdminMixin, DjangoUserAdmin):
    inlines = [UserMembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdminMixin, admin.ModelAdmin[Membership]):
    list_display = ["user", "post", "role"]
    list_filter = ["role", "post"]
    search_fields = ["user__username", "post__code"]
    list_select_related = ["user", "post"]
    autocomplete_fields = ["user", "post"]


def _superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(AuditedModelAdminMixin, DrfTokenAdmin):
    """API tokens are issued and revoked by superusers only (no endpoint hands them out).

    A token is shown once, when it is created; afterwards only its first characters appear,
    and the audit trail and the admin log name the token's owner, never the key.
    """

    list_display = ("key_hint", "user", "created")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)

    @admin.display(description=_("key"))
    def key_hint(self, obj: TokenProxy) -> str:
        return f"{obj.key[:6]}…"

    def audit_target(self, obj: models.Model) -> tuple[str, str]:
        return "authtoken.token", str(getattr(obj, "user_id", ""))

    # Django's admin log would keep the key itself (the token's primary key and text): these
    # two record in the audit trail only, under the owner's id.
    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit_admin(request, AuditEvent.Action.CREATE, obj, [])

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit_admin(request, AuditEvent.Action.DELETE, obj, None)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def response_add(
        self, request: HttpRequest, obj: TokenProxy, post_url_continue: str | None = None
    ) -> HttpResponse:
        messages.warning(
            request,
            _("API token for %(user)s: %(key)s. Copy it now: it will not be shown again.")
            % {"user": obj.user, "key": obj.key},
        )
        return super().response_add(request, obj, post_url_continue)


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class SecondFactorAdmin(AuditedModelAdminMixin, admin.ModelAdmin[TOTPDevice]):
    """Staff second-factor devices, for superusers: seen without their secret, and deleted to
    reset a lost one (the staff member enrols a new one at the next sign-in). Devices are
    created by their owner only, in the enrolment step."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)
