import csv
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import REGISTER_ROLES, country_codes_of_user
from core.admin_readonly import ReadOnlyStaffAdmin
from core.exceptions import ApplicationError
from notifications import alerts, selectors, staff_messages
from notifications.alerts import LANGUAGES, MessageTexts
from notifications.models import Alert, Delivery, InboundMessage, Suppression
from regions.selectors import region_names, regions_of_countries

TEXT_PARTS = ("subject", "text", "sms")


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - the admin only lets staff in
    return request.user


class StaffMessageForm(forms.Form):
    """A staff message's draft; the service checks it (regions of the country, texts for the
    chosen channels, SMS length) and its refusals are shown on the field they name."""

    country = forms.ChoiceField(label=_("Country"))
    region_codes = forms.MultipleChoiceField(
        label=_("Regions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the whole country."),
    )
    send_email = forms.BooleanField(label=_("by email"), required=False, initial=True)
    send_sms = forms.BooleanField(label=_("by text message"), required=False, initial=True)
    subject_en = forms.CharField(label=_("Subject (English)"), required=False, max_length=200)
    text_en = forms.CharField(label=_("Email (English)"), required=False, widget=forms.Textarea)
    sms_en = forms.CharField(
        label=_("Text message (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("{name} becomes the citizen's first name, {manage_url} their own link."),
    )
    subject_fr = forms.CharField(label=_("Subject (French)"), required=False, max_length=200)
    text_fr = forms.CharField(label=_("Email (French)"), required=False, widget=forms.Textarea)
    sms_fr = forms.CharField(
        label=_("Text message (French)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, country_codes: set[str], fixed_country: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        codes = {fixed_country} if fixed_country else country_codes
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101
        country.choices = [(code, code) for code in sorted(codes)]
        country.disabled = bool(fixed_country)
        regions = self.fields["region_codes"]
        assert isinstance(regions, forms.MultipleChoiceField)  # noqa: S101
        regions.choices = [
            (region.code, f"{region.code} · {region.name}")
            for region in regions_of_countries(country_codes=codes)
        ]

    def texts(self) -> dict[str, MessageTexts]:
        data = self.cleaned_data
        return {
            language: MessageTexts(
                **{part: data.get(f"{part}_{language}", "") for part in TEXT_PARTS}
            )
            for language in LANGUAGES
        }

    @classmethod
    def initial_of(cls, alert: Alert) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "country": alert.country_id,
            "region_codes": alert.region_codes,
            "send_email": alert.send_email,
            "send_sms": alert.send_sms,
        }
        for language in LANGUAGES:
            for part in TEXT_PARTS:
                initial[f"{part}_{language}"] = alert.texts.get(language, {}).get(part, "")
        return initial


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)


class ScopedToPostsAdmin(ReadOnlyStaffAdmin):
    """Staff see only the countries their posts cover (where they hold one of `roles`)."""

    country_field = "country_id"
    roles: tuple[str, ...] | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        user: User = request.user  # type: ignore[assignment]
        if user.is_superuser:
            return queryset
        countries = country_codes_of_user(user=user, roles=self.roles)
        return queryset.filter(**{f"{self.country_field}__in": countries})


@admin.register(Alert)
class AlertAdmin(ScopedToPostsAdmin):
    list_display = ["created_at", "kind", "country", "state", "people", "messages", "finished_at"]
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
    actions = [
        "submit",
        "approve",
        "reject",
        "test_send",
        "cancel",
        "resend_failed",
        "export_failed",
    ]

    @admin.display(description=_("progress"))
    def progress(self, alert: Alert) -> str:
        progress = selectors.alert_progress(alert=alert)
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
        # Before its fan-out, a staff message's reach is the preview's.
        reach = (
            _("%(people)d people, %(messages)d messages")
            % {"people": progress.people, "messages": progress.messages}
            if alert.fanned_out_at
            else ""
        )
        return format_html(
            '<p>{}</p><table>{}</table><p>{}</p><a href="{}">{}</a>',
            reach,
            rows,
            pace,
            link,
            _("Deliveries"),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        user = _user(request)
        if user.is_superuser:
            return super().get_queryset(request).select_related("created_by", "approved_by")
        return selectors.alerts_for_staff(user=user)

    def get_fields(self, request: HttpRequest, obj: Alert | None = None) -> Any:
        fields = list(self.fields or [])
        if obj is not None and obj.kind == Alert.Kind.STAFF_MESSAGE:
            return [*fields[:3], "message", "recipients_preview", "approval", *fields[3:]]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Alert | None = None) -> Any:
        return [*self.readonly_fields, "message", "recipients_preview", "approval"]

    @admin.display(description=_("message"))
    def message(self, alert: Alert) -> str:
        return format_html_join(
            "",
            "<h4>{}</h4><p><strong>{}</strong></p><p>{}</p><p>{}: {} ({})</p>",
            (
                (
                    language,
                    texts.get("subject", ""),
                    texts.get("text", ""),
                    _("Text message"),
                    texts.get("sms", ""),
                    _("%(n)d SMS parts") % {"n": staff_messages.sms_segments(texts.get("sms", ""))},
                )
                for language, texts in sorted(alert.texts.items())
            ),
        )

    @admin.display(description=_("who it reaches now"))
    def recipients_preview(self, alert: Alert) -> str:
        return _preview_html(alert)

    @admin.display(description=_("approval"))
    def approval(self, alert: Alert) -> str:
        return format_html(
            "{}: {} · {}: {} {}<br>{}",
            _("written by"),
            alert.created_by or "-",
            _("approved by"),
            alert.approved_by or "-",
            alert.approved_at or "",
            alert.rejection_reason,
        )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(_author_countries(request))

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Write a staff message: it is saved as a draft, then checked and submitted on its
        own page."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:notifications_alert_changelist"))
        form = StaffMessageForm(request.POST or None, country_codes=_author_countries(request))
        if request.method == "POST" and form.is_valid():
            try:
                alert = staff_messages.staff_message_create(
                    author=_user(request),
                    country_code=form.cleaned_data["country"],
                    region_codes=form.cleaned_data["region_codes"],
                    texts=form.texts(),
                    send_email=form.cleaned_data["send_email"],
                    send_sms=form.cleaned_data["send_sms"],
                )
            except ApplicationError as refusal:
                _form_error(form, refusal)
            else:
                self.message_user(
                    request,
                    _("Draft saved. Check who it reaches, send yourself a test, then submit it."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:notifications_alert_change", args=[alert.pk])
                )
        return self._compose(request, form, None, str(_("New staff message")))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A draft staff message opens in the compose page for its post's officers; every
        other alert, and a message past its draft, is shown read-only."""
        alert = self.get_queryset(request).filter(pk=object_id).first()
        if (
            alert is None
            or alert.kind != Alert.Kind.STAFF_MESSAGE
            or alert.state != Alert.State.DRAFT
            or alert.country_id not in _author_countries(request)
        ):
            return super().change_view(request, object_id, form_url, extra_context)
        form = StaffMessageForm(
            request.POST or None,
            initial=StaffMessageForm.initial_of(alert),
            country_codes=_author_countries(request),
            fixed_country=alert.country_id,
        )
        if request.method == "POST" and form.is_valid():
            step = request.POST.get("_step", "save")
            try:
                alert = staff_messages.staff_message_update(
                    alert=alert,
                    editor=_user(request),
                    region_codes=form.cleaned_data["region_codes"],
                    texts=form.texts(),
                    send_email=form.cleaned_data["send_email"],
                    send_sms=form.cleaned_data["send_sms"],
                )
                done = str(_("Draft saved."))
                if step == "test":
                    result = staff_messages.staff_message_test_send(
                        alert=alert, user=_user(request)
                    )
                    done = str(_("%(n)d test messages sent to %(to)s.")) % {
                        "n": result.sent,
                        "to": result.to,
                    }
                    if result.note:
                        done = f"{done} {result.note}"
                elif step == "submit":
                    staff_messages.staff_message_submit(alert=alert, submitted_by=_user(request))
                    done = str(_("Submitted: another staff member of the post must approve it."))
            except ApplicationError as refusal:
                _form_error(form, refusal)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        return self._compose(request, form, alert, str(alert))

    def _compose(
        self, request: HttpRequest, form: StaffMessageForm, alert: Alert | None, title: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "alert": alert,
            "preview": _preview_html(alert) if alert is not None else "",
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/notifications/alert/staff_message.html", context)

    def _apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[Alert],
        step: Callable[[Alert], object],
        done: str,
    ) -> None:
        """Run one step on each selected alert; a refusal is reported, not raised."""
        succeeded = 0
        for alert in queryset:
            try:
                step(alert)
            except ApplicationError as refusal:
                self.message_user(request, f"{alert}: {refusal.message}", messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done % {"count": succeeded}, messages.SUCCESS)

    @admin.action(description=_("Submit staff messages for approval"))
    def submit(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        user = _user(request)
        self._apply(
            request,
            queryset,
            lambda alert: staff_messages.staff_message_submit(alert=alert, submitted_by=user),
            str(_("%(count)d message(s) submitted for approval.")),
        )

    @admin.action(description=_("Approve staff messages (they are sent at once)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        user = _user(request)
        self._apply(
            request,
            queryset,
            lambda alert: staff_messages.staff_message_approve(alert=alert, approver=user),
            str(_("%(count)d message(s) approved and being sent.")),
        )

    @admin.action(description=_("Reject staff messages (back to draft, with a reason)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Alert]) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            user, reason = _user(request), form.cleaned_data["reason"]
            self._apply(
                request,
                queryset,
                lambda alert: staff_messages.staff_message_reject(
                    alert=alert, rejected_by=user, reason=reason
                ),
                str(_("%(count)d message(s) sent back to draft.")),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Reject these messages"),
            "form": form,
            "queryset": queryset,
            "action_name": "reject",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)

    @admin.action(description=_("Send staff messages to myself as a test"))
    def test_send(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        user = _user(request)
        self._apply(
            request,
            queryset,
            lambda alert: staff_messages.staff_message_test_send(alert=alert, user=user),
            str(_("%(count)d message(s) sent to you as a test.")),
        )

    @admin.action(description=_("Cancel the selected alerts"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset:
            try:
                alerts.alert_cancel(alert=alert, cancelled_by=_user(request))
            except ApplicationError as error:
                self.message_user(request, f"{alert}: {error.message}", messages.WARNING)

    @admin.action(description=_("Resend to failed"))
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        for alert in queryset:
            try:
                count = alerts.alert_resend_failed(alert=alert, actor=_user(request))
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
        # Who could not be reached is the register's: the consular staff's alerts only.
        user = _user(request)
        if not user.is_superuser:
            readable = selectors.alerts_for_staff(user=user, with_deliveries=True)
            queryset = queryset.filter(id__in=readable.values("id"))
        failed = Delivery.objects.filter(
            alert__in=queryset,
            status__in=[Delivery.Status.FAILED, Delivery.Status.BOUNCED],
        ).order_by("alert_id", "id")
        for row in failed.values_list(
            "alert_id", "id", "citizen_id", "channel", "region_code", "error_code", "error_reason"
        ).iterator():
            writer.writerow(row)
        return response


def _author_countries(request: HttpRequest) -> set[str]:
    """Countries where the signed-in staff member may write staff messages."""
    if not isinstance(request.user, User):
        return set()
    if not hasattr(request, "_staff_message_countries"):
        request._staff_message_countries = country_codes_of_user(  # type: ignore[attr-defined]
            user=request.user, roles=staff_messages.AUTHOR_ROLES
        )
    codes: set[str] = request._staff_message_countries  # type: ignore[attr-defined]
    return codes


def _form_error(form: forms.Form, refusal: ApplicationError) -> None:
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, str(refusal.message))


def _preview_html(alert: Alert) -> str:
    """The counts a staff message's fan-out would write now, by region, language, channel."""
    if alert.kind != Alert.Kind.STAFF_MESSAGE or alert.state not in (
        Alert.State.DRAFT,
        Alert.State.AWAITING_APPROVAL,
    ):
        return "-"
    counts = selectors.staff_message_preview(alert=alert)
    names = region_names(codes=counts.by_region)

    def rows(groups: dict[str, dict[str, int]], label: Callable[[str], str]) -> str:
        return format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (label(key), n.get("people", 0), n.get("email", 0), n.get("sms", 0))
                for key, n in groups.items()
            ),
        )

    nowhere = str(_("Somewhere in the country (no region given)"))
    head = "<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
    return format_html(
        f"<p>{{}}</p><table>{head}<tbody>{{}}</tbody></table>"
        f"<table>{head}<tbody>{{}}</tbody></table>",
        _("%(people)d people, %(messages)d messages (%(email)d emails, %(sms)d texts).")
        % {
            "people": counts.people,
            "messages": counts.messages,
            "email": counts.by_channel.get("email", 0),
            "sms": counts.by_channel.get("sms", 0),
        },
        _("region"),
        _("people"),
        _("emails"),
        _("texts"),
        rows(counts.by_region, lambda code: f"{code} {names.get(code, '')}" if code else nowhere),
        _("language"),
        _("people"),
        _("emails"),
        _("texts"),
        rows(counts.by_language, lambda language: language),
    )


@admin.register(Delivery)
class DeliveryAdmin(ScopedToPostsAdmin):
    country_field = "alert__country_id"
    roles = REGISTER_ROLES
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
            citizen__presences__country_id__in=country_codes_of_user(
                user=user, roles=REGISTER_ROLES
            )
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
            citizen__presences__country_id__in=country_codes_of_user(
                user=user, roles=REGISTER_ROLES
            )
        ).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
