from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only for everyone, superusers included: the trail is written by the code only.
    Seeing it takes the `core.view_auditevent` permission (superusers have it)."""

    list_display = [
        "occurred_at",
        "username",
        "post_code",
        "action",
        "object_type",
        "object_id",
        "client_address",
    ]
    list_filter = ["action", "object_type", "occurred_at"]
    search_fields = ["=username", "=object_id", "post_code", "=client_address"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = [
        "occurred_at",
        "user",
        "username",
        "post_code",
        "action",
        "object_type",
        "object_id",
        "client_address",
        "detail",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
