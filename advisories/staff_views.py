"""Staff pages of the advisory workflow: the versions in review, and one version's review,
where its editor submits it and an approver sees what approving would change and send
before approving or rejecting it. Editing stays in the admin."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from advisories import review, selectors, services
from advisories.compare import TEXTS, text_diff
from advisories.models import Advisory
from advisories.publication import version_diff
from core.exceptions import ApplicationError
from core.http import staff_view
from regions.selectors import region_names


class ApproveForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=1000)
    confirm_reach = forms.BooleanField(
        label=gettext_lazy("I have read the warnings above and approve all the same."),
        required=False,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it goes back to its editor"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@staff_view
@require_http_methods(["GET"])
def review_list(request: HttpRequest) -> HttpResponse:
    versions = selectors.advisories_in_review(user=_user(request))[:200]
    return render(request, "advisories/staff/review_list.html", {"versions": versions})


def _texts(previous: Advisory | None, advisory: Advisory, language: str) -> list[dict[str, Any]]:
    labels = {
        "summary": _("Summary"),
        "body": _("Details"),
        "instructions": _("Instructions"),
        "assistance_note": _("Consular assistance"),
        "change_note": _("Change note"),
    }
    rows = []
    for field in (*TEXTS, "change_note"):
        after = advisory.localized(field, language)
        before = previous.localized(field, language) if previous and field in TEXTS else ""
        if before != after:
            rows.append({"label": labels[field], "segments": text_diff(before, after)})
    return rows


def _reach_rows(counts: Any, names: dict[str, str]) -> list[tuple[str, Any]]:
    return sorted(
        (_("No region given") if code == "" else names.get(code, code), row)
        for code, row in counts.items()
    )


def _review_page(
    request: HttpRequest,
    advisory: Advisory,
    *,
    approve_form: ApproveForm,
    reject_form: RejectForm,
    refusal: str = "",
) -> HttpResponse:
    user = _user(request)
    language = get_language() or "en"
    found = review.advisory_review(advisory=advisory)
    previous = found.previous
    codes = set(found.reach.by_region) if found.reach else set()
    codes |= {preview.region_code for preview in found.sms}
    names = region_names(codes=codes - {""})
    languages = dict(settings.LANGUAGES)
    context = {
        "advisory": advisory,
        "previous": previous,
        "review": found,
        "diff": version_diff(advisory=advisory, language=language, told=found.reach_regions),
        "texts": _texts(previous, advisory, language),
        "reach_by_region": _reach_rows(found.reach.by_region, names) if found.reach else [],
        "reach_by_language": [
            (languages.get(code, code), row)
            for code, row in (found.reach.by_language.items() if found.reach else [])
        ],
        "sms": [
            {
                "language": languages.get(preview.language, preview.language),
                "reader": names.get(preview.region_code, preview.region_code)
                if preview.region_code
                else _("People with no region"),
                "preview": preview,
            }
            for preview in found.sms
        ],
        "can_submit": advisory.status == Advisory.Status.DRAFT
        and services.can_act(user=user, advisory=advisory, role=services.EDITOR),
        "can_approve": advisory.status == Advisory.Status.SUBMITTED
        and services.can_act(user=user, advisory=advisory, role=services.APPROVER),
        "panels": [mark_safe(html) for html in review.review_panels(advisory=advisory)],  # noqa: S308 - rendered by templates
        "approve_form": approve_form,
        "reject_form": reject_form,
        "refusal": refusal,
    }
    return render(request, "advisories/staff/review.html", context)


@staff_view
@require_http_methods(["GET", "POST"])
def review_page(request: HttpRequest, advisory_id: str) -> HttpResponse:
    user = _user(request)
    advisory = selectors.advisory_of_staff(user=user, advisory_id=advisory_id)
    if advisory is None:
        raise Http404
    approve_form = ApproveForm(request.POST if request.POST.get("action") == "approve" else None)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    if request.method == "GET":
        return _review_page(request, advisory, approve_form=approve_form, reject_form=reject_form)
    action = request.POST.get("action")
    try:
        if action == "submit":
            services.advisory_submit(advisory=advisory, submitted_by=user)
            messages.success(request, _("Submitted for approval."))
        elif action == "approve" and approve_form.is_valid():
            approved = services.advisory_approve(
                advisory=advisory,
                approved_by=user,
                comment=approve_form.cleaned_data["comment"],
                confirm_reach=approve_form.cleaned_data["confirm_reach"],
            )
            messages.success(
                request,
                _("Approved and published.")
                if approved.status == Advisory.Status.PUBLISHED
                else _("Approved: it publishes at the time set."),
            )
        elif action == "reject" and reject_form.is_valid():
            services.advisory_reject(
                advisory=advisory, rejected_by=user, reason=reject_form.cleaned_data["reason"]
            )
            messages.success(request, _("Sent back to its editor."))
        else:
            return _review_page(
                request, advisory, approve_form=approve_form, reject_form=reject_form
            )
    except ApplicationError as refusal:
        advisory.refresh_from_db()
        return _review_page(
            request,
            advisory,
            approve_form=approve_form,
            reject_form=reject_form,
            refusal=str(refusal.message),
        )
    return redirect("advisories-staff:review", advisory_id=advisory.pk)
