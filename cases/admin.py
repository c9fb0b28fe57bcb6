"""Read-only admin views of checks and cases, scoped to the posts where the staff member is
an officer or post administrator (advisory editors and approvers see no citizen): the work
itself happens on the staff pages (/staff/checks/, /staff/cases/), which go through the
services. A check's approval (or its start alone, under its post's urgent mode) shows here."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import REGISTER_ROLES, country_codes_of_user, posts_of_user
from cases.models import Case, SafetyCheck
from core.admin_readonly import ReadOnlyStaffAdmin


@admin.register(SafetyCheck)
class SafetyCheckAdmin(ReadOnlyStaffAdmin):
    list_display = ["code", "country", "status", "deadline", "approval", "board"]
    list_filter = ["status", "started_alone", "country"]
    list_select_related = ["country", "approved_by"]
    exclude = ["question_alert", "reminder_alert", "alert"]
    readonly_fields = ["approval"]

    @admin.display(description=_("approval"))
    def approval(self, check: SafetyCheck) -> str:
        # Said in words: "started without a second person (urgent mode)" or who approved it.
        return check.approval_note or "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SafetyCheck]:
        user: User = request.user  # type: ignore[assignment]
        return (
            super()
            .get_queryset(request)
            .filter(country_id__in=country_codes_of_user(user=user, roles=REGISTER_ROLES))
        )

    @admin.display(description=_("board"))
    def board(self, check: SafetyCheck) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("cases:check_board", args=[check.id]), _("Open")
        )


@admin.register(Case)
class CaseAdmin(ReadOnlyStaffAdmin):
    list_display = ["created_at", "kind", "priority", "status", "post", "assignee", "page"]
    list_filter = ["status", "kind", "priority", "post"]
    list_select_related = ["post", "assignee"]
    exclude = ["citizen", "household_members", "safety_check"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        user: User = request.user  # type: ignore[assignment]
        return (
            super()
            .get_queryset(request)
            .filter(post__in=posts_of_user(user=user, roles=REGISTER_ROLES))
        )

    @admin.display(description=_("case page"))
    def page(self, case: Case) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("cases:case_detail", args=[case.id]), _("Open")
        )
