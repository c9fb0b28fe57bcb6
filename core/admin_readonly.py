"""A read-only admin for records that are written by services only (alerts, cases, checks):
every staff member may look, nobody adds, changes or deletes here, and each look is audited."""

from django.contrib import admin
from django.http import HttpRequest

from core.audit import AuditedModelAdminMixin


class ReadOnlyStaffAdmin(AuditedModelAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)
