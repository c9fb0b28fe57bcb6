"""Staff admin for advisories, scoped to the countries of the staff member's posts. Every change
goes through the workflow services, the same ones the API calls."""

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import country_codes_of_user
from advisories import services
from advisories.models import Advisory, Indicator, Notify, RegionOverride, Transition
from core.audit import AuditedModelAdminMixin
from core.exceptions import ApplicationError
from regions.selectors import countries_all, countries_with_codes, regions_all, regions_of_country

STAFF_ROLES = ["editor", "approver", "admin"]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - the admin only lets staff in
    return request.user


def _countries(request: HttpRequest, roles: Sequence[str] = STAFF_ROLES) -> set[str]:
    """Countries the signed-in staff member holds one of the roles for (none when anonymous,
    as on the sign-in page, which lists the apps too)."""
    if not isinstance(request.user, User):
        return set()
    cache_name = f"_advisory_countries_{'_'.join(roles)}"
    if not hasattr(request, cache_name):
        setattr(request, cache_name, country_codes_of_user(user=request.user, roles=roles))
    codes: set[str] = getattr(request, cache_name)
    return codes


class NewDraftForm(forms.Form):
    country = forms.ModelChoiceField(queryset=countries_all().none(), label=_("Country"))

    def __init__(self, *args: Any, country_codes: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["country"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = countries_with_codes(codes=country_codes)


class AdvisoryForm(forms.ModelForm[Advisory]):
    indicators = forms.MultipleChoiceField(
        choices=Indicator.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("risk indicators"),
    )

    class Meta:
        model = Advisory
        fields = list(services.DRAFT_FIELDS)

    def clean(self) -> dict[str, Any]:
        """The service's rule, on the form's fields: whoever more than the people whose level
        changed is told reads the change note."""
        cleaned = super().clean() or {}
        if cleaned.get("notify", Notify.LEVEL_CHANGES) != Notify.LEVEL_CHANGES:
            for name in services.NOTIFICATION_TEXTS:
                if not (cleaned.get(name) or "").strip():
                    self.add_error(name, services.NOTIFICATION_TEXT_MISSING)
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, required=False)


class RegionOverrideInline(admin.TabularInline[RegionOverride, Advisory]):
    model = RegionOverride
    extra = 1
    fields = ["region", "level", "note_en", "note_fr"]

    def get_formset(self, request: HttpRequest, obj: Advisory | None = None, **kwargs: Any) -> Any:
        request._advisory_country = obj.country_id if obj else None  # type: ignore[attr-defined]
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "region":
            # Only the advisory's own country's regions can be given a level (none before the
            # advisory has a country).
            country_code = getattr(request, "_advisory_country", None)
            kwargs["queryset"] = (
                regions_of_country(country_code=country_code)
                if country_code
                else regions_all().none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(_countries(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or _can_edit(request, obj)

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class TransitionInline(admin.TabularInline[Transition, Advisory]):
    model = Transition
    extra = 0
    fields = ["created_at", "action", "from_status", "to_status", "actor", "comment"]
    readonly_fields = ["created_at", "action", "from_status", "to_status", "actor", "comment"]
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(_countries(request))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _can_edit(request: HttpRequest, advisory: Advisory) -> bool:
    return advisory.status == Advisory.Status.DRAFT and advisory.country_id in _countries(
        request, ["editor"]
    )


def _apply(
    modeladmin: "AdvisoryAdmin",
    request: HttpRequest,
    queryset: QuerySet[Advisory],
    step: Callable[[Advisory], Advisory],
    done: str,
) -> None:
    """Run one workflow step on each selected version; a refusal is reported, not raised."""
    succeeded = 0
    for advisory in queryset:
        try:
            step(advisory)
        except ApplicationError as refusal:
            review = reverse("advisories-staff:review", kwargs={"advisory_id": advisory.pk})
            modeladmin.message_user(
                request,
                format_html(
                    '{}: {} <a href="{}">{}</a>',
                    advisory,
                    refusal.message,
                    review,
                    _("Open its review"),
                ),
                messages.ERROR,
            )
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, done % {"count": succeeded}, messages.SUCCESS)


@admin.register(Advisory)
class AdvisoryAdmin(AuditedModelAdminMixin, admin.ModelAdmin[Advisory]):
    form = AdvisoryForm
    list_display = [
        "country",
        "status",
        "version",
        "country_level",
        "notify",
        "author",
        "scheduled_for",
        "published_at",
        "review_link",
    ]
    list_filter = ["status", "country_level"]
    list_select_related = ["country", "author"]
    search_fields = ["country__code", "country__name_en"]
    inlines = [RegionOverrideInline, TransitionInline]
    actions = ["submit", "approve", "reject", "withdraw"]
    fieldsets = [
        (None, {"fields": ["country", "status", "version", "based_on", "scheduled_for"]}),
        (_("Levels"), {"fields": ["country_level", "indicators", "posture"]}),
        (_("Who is told"), {"fields": ["notify"]}),
        (
            _("English"),
            {
                "fields": [
                    "summary_en",
                    "body_en",
                    "instructions_en",
                    "assistance_note_en",
                    "change_note_en",
                ]
            },
        ),
        (
            _("French"),
            {
                "fields": [
                    "summary_fr",
                    "body_fr",
                    "instructions_fr",
                    "assistance_note_fr",
                    "change_note_fr",
                ]
            },
        ),
        (
            _("Workflow"),
            {
                "fields": [
                    "author",
                    "submitted_by",
                    "submitted_at",
                    "approved_by",
                    "approved_at",
                    "published_at",
                    "superseded_at",
                    "withdrawn_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "country",
        "status",
        "version",
        "based_on",
        "author",
        "submitted_by",
        "submitted_at",
        "approved_by",
        "approved_at",
        "published_at",
        "superseded_at",
        "withdrawn_at",
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Advisory | None = None) -> Any:
        """A version the user cannot change shows its indicators as labels, not as the
        stored codes, and the way to its review."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        "indicator_labels" if field == "indicators" else field
                        for field in options["fields"]
                    ]
                    + (["review_link"] if name is None else []),
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Advisory | None = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "indicator_labels", "review_link"]

    @admin.display(description=_("risk indicators"))
    def indicator_labels(self, advisory: Advisory) -> str:
        labels = dict(Indicator.choices)
        return ", ".join(str(labels.get(code, code)) for code in advisory.indicators) or "—"

    @admin.display(description=_("review"))
    def review_link(self, advisory: Advisory) -> str:
        """Where the editor submits and the approver decides, with the reach in view."""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("advisories-staff:review", kwargs={"advisory_id": advisory.pk}),
            _("Review"),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Advisory]:
        return (
            super()
            .get_queryset(request)
            .filter(country_id__in=_countries(request))
            .select_related("country", "author")
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(_countries(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        countries = _countries(request)
        return bool(countries) if obj is None else obj.country_id in countries

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(_countries(request, ["editor"]))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Without an object Django asks whether the list may be shown with its actions.
        return bool(_countries(request)) if obj is None else _can_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are withdrawn, never deleted

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """A new draft starts from the country's current version, so the only question is
        which country; the draft then opens for editing."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:advisories_advisory_changelist"))
        form = NewDraftForm(request.POST or None, country_codes=_countries(request, ["editor"]))
        if request.method == "POST" and form.is_valid():
            try:
                advisory = services.advisory_draft_create(
                    country_code=form.cleaned_data["country"].code, author=_user(request)
                )
            except ApplicationError as refusal:
                form.add_error(None, str(refusal.message))
            else:
                self.log_addition(request, advisory, [{"added": {}}])
                self.message_user(
                    request,
                    _("Draft created from the current version; edit it, then submit it."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:advisories_advisory_change", args=[advisory.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("New advisory draft"),
            "form": form,
            "has_view_permission": True,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/advisories/advisory/new_draft.html", context)

    def save_model(self, request: HttpRequest, obj: Advisory, form: Any, change: bool) -> None:
        # The service writes; see save_related, where the region levels are known too.
        request._advisory_fields = {  # type: ignore[attr-defined]
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.DRAFT_FIELDS
        }

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        overrides = None
        for formset in formsets:
            # The service writes the rows; the admin's change message reads these lists.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is RegionOverride and formset.has_changed():
                overrides = [
                    services.OverrideInput(
                        region_code=item.cleaned_data["region"].code,
                        level=item.cleaned_data["level"],
                        note_en=item.cleaned_data.get("note_en", ""),
                        note_fr=item.cleaned_data.get("note_fr", ""),
                    )
                    for item in formset.forms
                    if item.cleaned_data
                    and item.cleaned_data.get("region")
                    and not item.cleaned_data.get("DELETE")
                ]
        fields = getattr(request, "_advisory_fields", {})
        if not fields and overrides is None:
            return
        try:
            services.advisory_draft_update(
                advisory=form.instance, editor=_user(request), fields=fields, overrides=overrides
            )
        except ApplicationError as refusal:
            self.message_user(request, str(refusal.message), messages.ERROR)

    @admin.action(description=_("Submit for approval"))
    def submit(self, request: HttpRequest, queryset: QuerySet[Advisory]) -> None:
        user = _user(request)
        _apply(
            self,
            request,
            queryset,
            lambda advisory: services.advisory_submit(advisory=advisory, submitted_by=user),
            str(_("%(count)d version(s) submitted for approval.")),
        )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return bool(_countries(request, ["approver"]))

    @admin.action(
        description=_("Approve (publish now or at the scheduled time)"), permissions=["approve"]
    )
    def approve(self, request: HttpRequest, queryset: QuerySet[Advisory]) -> None:
        user = _user(request)
        _apply(
            self,
            request,
            queryset,
            lambda advisory: services.advisory_approve(advisory=advisory, approved_by=user),
            str(_("%(count)d version(s) approved.")),
        )

    def _with_reason(
        self,
        request: HttpRequest,
        queryset: QuerySet[Advisory],
        *,
        action_name: str,
        title: str,
        step: Callable[[Advisory, str], Advisory],
        done: str,
    ) -> HttpResponse | None:
        """An action that asks for a reason on an intermediate page before acting."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            _apply(self, request, queryset, lambda advisory: step(advisory, reason), done)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "queryset": queryset,
            "action_name": action_name,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)

    @admin.action(description=_("Reject (back to draft, with a reason)"), permissions=["approve"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Advisory]) -> HttpResponse | None:
        user = _user(request)
        return self._with_reason(
            request,
            queryset,
            action_name="reject",
            title=str(_("Reject these versions")),
            step=lambda advisory, reason: services.advisory_reject(
                advisory=advisory, rejected_by=user, reason=reason
            ),
            done=str(_("%(count)d version(s) sent back to draft.")),
        )

    @admin.action(description=_("Withdraw"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Advisory]) -> HttpResponse | None:
        user = _user(request)
        return self._with_reason(
            request,
            queryset,
            action_name="withdraw",
            title=str(_("Withdraw these versions")),
            step=lambda advisory, reason: services.advisory_withdraw(
                advisory=advisory, withdrawn_by=user, reason=reason
            ),
            done=str(_("%(count)d version(s) withdrawn.")),
        )
