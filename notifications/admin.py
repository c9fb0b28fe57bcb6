import csv

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import country_codes_of_user
from core.admin_readonly import ReadOnlyStaffAdmin
from core.exceptions import ApplicationError
from notifications import selectors, services
from notifications.models import Alert, Delivery, InboundMessage, Suppression


class ScopedToPostsAdmin(ReadOnlyStaffAdmin):
    """Staff see only the countries their posts cover."""

    country_field = "country_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        user: User = request.user  # type: ignore[assignment]
        if user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.country_field}__in": country_codes_of_user(user=user)})


@admin.register(Alert)
class AlertAdmin(ScopedToPostsAdmin):
    list_display = ["created_at", "kind", "country", "state", "recipients", "finished_at"]
    list_filter = ["state", "kind", "country"]
    list_select_related = ["country"]
    readonly_fields = ["progress", "changes", "region_codes", "fanned_out_at", "finished_at"]
    fields = [
        "kind",
        "state",
        "country",
        "advisory",
        "progress",
        "changes",
        "fanned_out_at",
        "finished_at",
    ]
    actions = ["cancel", "resend_failed", "export_failed"]

    @admin.display(description=_("progress"))
    def progress(self, alert: Alert) -> str:
        progress = selectors.alert_progress(alert_id=str(alert.id))
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            (
                (channel, ", ".join(f"{status}: {n}" for status, n in sorted(by_status.items())))
                for channel, by_status in sorted(progress.counts.items())
            ),
        )
        link = reverse("admin:notifications_delivery_changelist") + f"?alert__id__exact={alert.id}"
        pace = _("%(rate)s per second, %(remaining)s left, done in about %(eta)s s") % {
            "rate": progress.rate_per_s,
            "remaining": progress.remaining,
            "eta": "?" if progress.eta_seconds is None else progress.eta_seconds,
        }
        return format_html(
            '<table>{}</table><p>{}</p><a href="{}">{}</a>', rows, pace, link, _("Deliveries")
        )

    @admin.action(description=_("Cancel the selected alerts"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset:
            try:
                services.alert_cancel(alert=alert)
            except ApplicationError as error:
                self.message_user(request, f"{alert}: {error.message}", messages.WARNING)

    @admin.action(description=_("Resend to failed"))
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset:
            try:
                count = services.alert_resend_failed(alert=alert)
            except ApplicationError as error:
                self.message_user(request, f"{alert}: {error.message}", messages.WARNING)
            else:
                self.message_user(request, _("%(n)d deliveries requeued.") % {"n": count})

    @admin.action(description=_("Export failed deliveries (CSV, for phone follow-up)"))
    def export_failed(self, request: HttpRequest, queryset: QuerySet[Alert]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="failed-deliveries.csv"'
        response["Cache-Control"] = "no-store"
        writer = csv.writer(response)
        writer.writerow(["alert", "delivery", "citizen", "channel", "region", "error", "reason"])
        failed = Delivery.objects.filter(
            alert__in=queryset, status__in=[Delivery.Status.FAILED, Delivery.Status.BOUNCED]
        ).order_by("alert_id", "id")
        for row in failed.values_list(
            "alert_id", "id", "citizen_id", "channel", "region_code", "error_code", "error_reason"
        ).iterator():
            writer.writerow(row)
        return response


@admin.register(Delivery)
class DeliveryAdmin(ScopedToPostsAdmin):
    country_field = "alert__country_id"
    list_display = [
        "id",
        "alert",
        "channel",
        "status",
        "region_code",
        "attempts",
        "error_code",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["alert"]
    show_full_result_count = False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["citizen", "channel", "reason", "created_at"]
    list_filter = ["channel", "reason"]
    raw_id_fields = ["citizen"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Suppression]:
        queryset = super().get_queryset(request)
        user: User = request.user  # type: ignore[assignment]
        if user.is_superuser:
            return queryset
        return queryset.filter(
            citizen__presences__country_id__in=country_codes_of_user(user=user)
        ).distinct()


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "provider", "citizen"]
    list_filter = ["provider"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        queryset = super().get_queryset(request)
        user: User = request.user  # type: ignore[assignment]
        if user.is_superuser:
            return queryset
        return queryset.filter(
            citizen__presences__country_id__in=country_codes_of_user(user=user)
        ).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
