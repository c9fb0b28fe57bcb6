"""Staff admin of the register: each staff member sees only the citizens present in their
posts' countries, can search and filter them, and export them as CSV. Every view, change,
deletion and export is recorded in the audit trail."""

import csv
from typing import Any

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.selectors import REGISTER_ROLES, country_codes_of_user
from core.audit import Action, AuditedModelAdminMixin, audit_record
from core.crypto import keyed_hashes
from registrations import services
from registrations.models import Citizen, HouseholdMember, Presence

CSV_COLUMNS = [
    "id",
    "given_name",
    "family_name",
    "language",
    "email",
    "email_verified_at",
    "phone",
    "phone_verified_at",
    "notify_by_email",
    "notify_by_sms",
    "household_count",
    "created_at",
]


def _scope(request: HttpRequest) -> set[str]:
    return country_codes_of_user(user=request.user, roles=REGISTER_ROLES)  # type: ignore[arg-type]


class HouseholdInline(admin.TabularInline[HouseholdMember, Citizen]):
    model = HouseholdMember
    extra = 0
    fields = ["name", "relation", "date_of_birth", "phone"]


class PresenceInline(admin.TabularInline[Presence, Citizen]):
    model = Presence
    extra = 0
    fields = ["kind", "country", "region", "city", "start_date", "end_date"]
    raw_id_fields = ["region"]


class CountryFilter(admin.SimpleListFilter):
    title = _("present in country")
    parameter_name = "country"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in sorted(_scope(request))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Citizen]) -> QuerySet[Citizen]:
        if not self.value():
            return queryset
        return queryset.filter(
            Exists(Presence.objects.filter(citizen=OuterRef("pk"), country_id=self.value()))
        )


class VerifiedFilter(admin.SimpleListFilter):
    title = _("verified channels")
    parameter_name = "verified"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("email", _("email verified")),
            ("sms", _("phone verified")),
            ("unverified", _("a chosen channel is not verified")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Citizen]) -> QuerySet[Citizen]:
        if self.value() == "email":
            return queryset.filter(email_verified_at__isnull=False)
        if self.value() == "sms":
            return queryset.filter(phone_verified_at__isnull=False)
        if self.value() == "unverified":
            return queryset.filter(
                notify_by_email=True, email_verified_at__isnull=True
            ) | queryset.filter(notify_by_sms=True, phone_verified_at__isnull=True)
        return queryset


@admin.register(Citizen)
class CitizenAdmin(AuditedModelAdminMixin, admin.ModelAdmin[Citizen]):
    list_display = [
        "family_name",
        "given_name",
        "email",
        "email_verified",
        "phone",
        "phone_verified",
        "household_count",
        "presence_count",
        "created_at",
    ]
    list_filter = [CountryFilter, VerifiedFilter, "language", "notify_by_sms"]
    # Names match in part; an email address or phone number only whole, through its keyed
    # hash (the columns are encrypted).
    search_fields = ["family_name", "given_name"]
    search_help_text = _("Part of a name, or a whole email address or phone number.")
    # Sorting encrypted columns would order tokens, not values.
    sortable_by = [
        "family_name",
        "given_name",
        "email_verified",
        "phone_verified",
        "household_count",
        "presence_count",
        "created_at",
    ]
    # Contacts and consent belong to the citizen: they change them through their signed link,
    # where a new address or number is verified again before alerts use it.
    readonly_fields = [
        "email",
        "phone",
        "notify_by_email",
        "notify_by_sms",
        "language",
        "email_verified_at",
        "phone_verified_at",
        "consent_version",
        "consented_at",
        "confirmed_at",
        "confirmation_requested_at",
        "created_at",
    ]
    inlines = [HouseholdInline, PresenceInline]
    actions = ["export_csv"]
    show_full_result_count = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Citizen]:
        in_scope = Presence.objects.filter(
            citizen=OuterRef("pk"), country_id__in=sorted(_scope(request))
        )
        return (
            super()
            .get_queryset(request)
            .filter(Exists(in_scope))
            .annotate(
                household_total=Count("household_members", distinct=True),
                presence_total=Count("presences", distinct=True),
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Citizen], search_term: str
    ) -> tuple[QuerySet[Citizen], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            by_contact = queryset.filter(
                Q(email_hash__in=keyed_hashes(term, kind="email"))
                | Q(phone_hash__in=keyed_hashes(term, kind="phone"))
            )
            results |= by_contact
        return results, may_have_duplicates

    @admin.display(description=_("email verified"), boolean=True)
    def email_verified(self, citizen: Citizen) -> bool:
        return citizen.email_verified_at is not None

    @admin.display(description=_("phone verified"), boolean=True)
    def phone_verified(self, citizen: Citizen) -> bool:
        return citizen.phone_verified_at is not None

    @admin.display(description=_("household"), ordering="household_total")
    def household_count(self, citizen: Citizen) -> int:
        return int(getattr(citizen, "household_total", 0))

    @admin.display(description=_("presences"), ordering="presence_total")
    def presence_count(self, citizen: Citizen) -> int:
        return int(getattr(citizen, "presence_total", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A registration needs the citizen's own consent: it is made on /register/.
        return False

    def delete_model(self, request: HttpRequest, obj: Citizen) -> None:
        services.citizen_delete(citizen=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Citizen]) -> None:
        # The bulk action too must erase the citizens from every app, not only delete rows.
        services.citizens_delete(citizen_ids=list(queryset.values_list("id", flat=True)))

    @admin.action(description=_("Export the selected citizens as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Citizen]) -> HttpResponse:
        scope = sorted(_scope(request))
        rows = list(queryset.order_by("family_name", "given_name"))
        audit_record(
            request=request,
            action=Action.EXPORT,
            object_type=Citizen._meta.label_lower,
            detail={"via": "admin", "format": "csv", "rows": len(rows), "countries": scope},
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="register.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for citizen in rows:
            values = [
                self.household_count(citizen)
                if column == "household_count"
                else getattr(citizen, column)
                for column in CSV_COLUMNS
            ]
            writer.writerow([_csv_safe(value) for value in values])
        return response


def _csv_safe(value: object) -> str:
    """Neutralise spreadsheet formulas in citizen-supplied text (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"} and not text[1:2].isdigit():
        return "'" + text
    return text
