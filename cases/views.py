"""Citizen pages behind the signed email links, and the staff pages: check board, case queue,
case page. Staff pages need a staff account past its second factor and show only the staff
member's posts; anything else answers 404."""

import csv
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.selectors import (
    REGISTER_ROLES,
    colleagues_of_user,
    post_covering_country,
    posts_of_user,
    urgent_safety_check_post,
)
from cases import selectors
from cases.board import CheckProgress, check_progress, region_label
from cases.forms import (
    CaseFilterForm,
    HelpForm,
    MessageForm,
    NoteForm,
    RejectForm,
    SafetyCheckForm,
    StatusForm,
)
from cases.models import Case, SafetyCheck, SafetyResponse
from cases.panels import ask_help_citizen_id
from cases.services import cases as case_services
from cases.services import safety_checks
from core.audit import Action, audit_record
from core.exceptions import ApplicationError
from core.http import no_store, staff_view
from core.spreadsheets import safe_cell
from regions.selectors import region_names
from registrations.selectors import citizen_get, presence_current_of_citizen

# --- Citizens -------------------------------------------------------------------------------


def _token_or_404(token: str) -> tuple[SafetyCheck, str]:
    found = selectors.check_of_response_token(token)
    if found is None:
        raise Http404
    return found


@no_store
@require_http_methods(["GET"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    check, _citizen_id = _token_or_404(token)
    return render(request, "cases/respond.html", {"check": check, "token": token})


# Answers are recorded on POST only: mail scanners follow the links in an email, and a GET
# that records would let them answer for the citizen.
@no_store
@require_http_methods(["GET", "POST"])
def respond_safe(request: HttpRequest, token: str) -> HttpResponse:
    check, citizen_id = _token_or_404(token)
    if request.method == "POST":
        safety_checks.response_record(
            check=check,
            citizen_id=citizen_id,
            answer=safety_checks.Answer(
                status=SafetyResponse.Status.SAFE, via=SafetyResponse.Via.WEB
            ),
        )
        return render(request, "cases/respond_done.html", {"check": check, "safe": True})
    return render(request, "cases/respond_safe.html", {"check": check, "token": token})


@no_store
@require_http_methods(["GET", "POST"])
def respond_help(request: HttpRequest, token: str) -> HttpResponse:
    check, citizen_id = _token_or_404(token)
    form = HelpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        safety_checks.response_record(
            check=check,
            citizen_id=citizen_id,
            answer=safety_checks.Answer(
                status=SafetyResponse.Status.NEEDS_HELP,
                via=SafetyResponse.Via.WEB,
                help_kind=form.cleaned_data["help_kind"],
                people_with_them=form.cleaned_data["people_with_them"],
                location=form.cleaned_data["location"],
                details=form.cleaned_data["details"],
            ),
        )
        return _help_asked(request, case=_case_of(check=check, citizen_id=citizen_id))
    post = post_covering_country(country_code=check.country_id)
    return render(
        request,
        "cases/respond_help.html",
        {"check": check, "token": token, "form": form, "post": post},
    )


def _case_of(*, check: SafetyCheck, citizen_id: uuid.UUID | str) -> Case | None:
    return selectors.case_open_of_citizen(citizen_id=citizen_id, check=check)


def _help_asked(request: HttpRequest, *, case: Case | None) -> HttpResponse:
    """The page after "I need help": the case's reference to quote and the number to call
    while waiting, in the citizen's language."""
    return render(
        request,
        "cases/respond_done.html",
        {"safe": False, "case": case, "post": case.post if case else None},
    )


@no_store
@require_http_methods(["GET", "POST"])
def ask_help(request: HttpRequest, token: str) -> HttpResponse:
    """ "I need help" from the citizen's own page, with or without a safety check."""
    citizen_id = ask_help_citizen_id(token)
    citizen = citizen_get(citizen_id=citizen_id) if citizen_id else None
    if citizen is None:
        raise Http404
    form = HelpForm(request.POST or None)
    presence = presence_current_of_citizen(citizen=citizen)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        check = selectors.open_check_of_citizen(citizen_id=citizen.id)
        if check is not None:
            safety_checks.response_record(
                check=check,
                citizen_id=citizen.id,
                answer=safety_checks.Answer(
                    status=SafetyResponse.Status.NEEDS_HELP,
                    via=SafetyResponse.Via.WEB,
                    help_kind=data["help_kind"],
                    people_with_them=data["people_with_them"],
                    location=data["location"],
                    details=data["details"],
                ),
            )
            case = _case_of(check=check, citizen_id=citizen.id)
        else:
            if presence is None:
                raise Http404
            case = case_services.case_open_by_citizen(
                citizen_id=citizen.id,
                country_code=presence.country_id,
                region_code=presence.region_id,
                help_kind=data["help_kind"],
                text=" · ".join(
                    str(part)
                    for part in (
                        data["people_with_them"],
                        data["location"],
                        data["details"],
                    )
                    if part
                ),
            )
        return _help_asked(request, case=case)
    post = post_covering_country(country_code=presence.country_id) if presence else None
    return render(request, "cases/ask_help.html", {"form": form, "token": token, "post": post})


# --- Staff ----------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@staff_view
@require_http_methods(["GET"])
def check_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    checks = list(selectors.checks_for_staff(user=user).select_related("country")[:100])
    to_approve = list(
        selectors.checks_to_approve(user=user)
        .exclude(created_by=user)
        .select_related("country", "created_by")[:100]
    )
    _name_regions([*checks, *to_approve])
    return render(request, "cases/check_list.html", {"checks": checks, "to_approve": to_approve})


def _name_regions(checks: list[SafetyCheck], names: dict[str, str] | None = None) -> None:
    """Give each check the names of its regions (`region_labels`), one query for all unless
    the caller read them already."""
    if names is None:
        names = region_names(codes={code for check in checks for code in check.region_codes})
    for check in checks:
        check.region_labels = [names.get(code, code) for code in check.region_codes]  # type: ignore[attr-defined]


# The services name the fields of a check; the form calls two of them otherwise.
_FORM_FIELDS = {"region_codes": "regions", "country_code": "country"}


def _check_fields(data: dict[str, Any]) -> safety_checks.CheckFields:
    return safety_checks.CheckFields(
        region_codes=data["regions"],
        question_en=data["question_en"],
        question_fr=data["question_fr"],
        deadline=data["deadline"],
        send_email=data["send_email"],
        send_sms=data["send_sms"],
        reminder_minutes=data["reminder_minutes"],
        escalate_to_emergency_contact=data["escalate_to_emergency_contact"],
        open_case_on_no_response=data["open_case_on_no_response"],
    )


def _refusal_on(form: forms.Form, error: ApplicationError) -> None:
    field = _FORM_FIELDS.get(error.field or "", error.field)
    form.add_error(field if field in form.fields else None, str(error.message))


@staff_view
@require_http_methods(["GET", "POST"])
def check_new(request: HttpRequest) -> HttpResponse:
    """Write a check: it is saved as a draft, whose page shows whom it would reach."""
    areas = selectors.check_areas_for_staff(user=_user(request))
    form = SafetyCheckForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        try:
            check = safety_checks.safety_check_create(
                author=_user(request),
                country_code=form.cleaned_data["country"],
                fields=_check_fields(form.cleaned_data),
            )
        except ApplicationError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("The draft is saved. Check whom it would ask."))
            return redirect("cases:check_board", check_id=check.id)
    return render(request, "cases/check_new.html", {"form": form})


@staff_view
@require_http_methods(["GET", "POST"])
def check_edit(request: HttpRequest, check_id: str) -> HttpResponse:
    check = selectors.check_for_staff(user=_user(request), check_id=check_id)
    if check is None or check.status != SafetyCheck.Status.DRAFT:
        raise Http404
    areas = [
        area
        for area in selectors.check_areas_for_staff(user=_user(request))
        if area.country_code == check.country_id
    ]
    form = SafetyCheckForm(
        request.POST or None, areas=areas, initial=SafetyCheckForm.initial_of(check)
    )
    if request.method == "POST" and form.is_valid():
        try:
            safety_checks.safety_check_update(
                check=check, editor=_user(request), fields=_check_fields(form.cleaned_data)
            )
        except ApplicationError as error:
            _refusal_on(form, error)
        else:
            messages.success(request, _("The draft is saved. Check whom it would ask."))
            return redirect("cases:check_board", check_id=check.id)
    return render(request, "cases/check_new.html", {"form": form, "check": check})


def _check_step(request: HttpRequest, check: SafetyCheck, reject_form: RejectForm) -> str:
    """Run the approval step the page's button asked for; returns the refusal to show ("" when
    it went through)."""
    user, step = _user(request), request.POST.get("action")
    try:
        if step == "submit":
            safety_checks.safety_check_submit(check=check, submitted_by=user)
        elif step == "approve":
            safety_checks.safety_check_approve(check=check, approver=user)
        elif step == "start_alone":
            safety_checks.safety_check_start_alone(check=check, started_by=user)
        elif step == "reject":
            if not reject_form.is_valid():
                return _("Say why the safety check is rejected.")
            safety_checks.safety_check_reject(
                check=check, rejected_by=user, reason=reject_form.cleaned_data["reason"]
            )
        else:
            return _("Choose an action.")
    except ApplicationError as error:
        return str(error.message)
    return ""


@staff_view
@require_http_methods(["GET", "POST"])
def check_board_view(request: HttpRequest, check_id: str) -> HttpResponse:
    """A started check's board; before it starts, its reach and the approval steps."""
    user = _user(request)
    check = selectors.check_for_staff_or_approval(user=user, check_id=check_id)
    if check is None:
        raise Http404
    if check.is_started and request.method == "POST":
        return HttpResponseNotAllowed(["GET"])
    if not check.is_started:
        return _check_approval_page(request, check)
    if selectors.check_for_staff(user=user, check_id=check.id) is None:
        raise Http404
    progress = check_progress(check=check)
    status = request.GET.get("status", "")
    if status not in SafetyResponse.Status.values:
        status = _default_list(check, progress)
    region = request.GET.get("region", "")
    if region not in check.region_codes:
        region = ""
    responses = selectors.responses_of_check(check_id=check.id, status=status)
    if region:
        responses = responses.filter(region_code=region)
    names = {line.code: line.name for line in progress.regions}
    _name_regions([check], names)
    # The board lists people by name and number: reading it is on the audit trail (the live
    # fragment, counts only, is not).
    audit_record(
        request=request, action=Action.VIEW, obj=check, detail={"via": "staff", "list": status}
    )
    return render(
        request,
        "cases/check_board.html",
        {
            "check": check,
            "progress": progress,
            "poll_seconds": BOARD_POLL_SECONDS,
            "statuses": SafetyResponse.Status.choices,
            "status": status,
            "region": region,
            "region_names": names,
            "responses": responses[:LIST_LIMIT],
            "list_limit": LIST_LIMIT,
        },
    )


def _default_list(check: SafetyCheck, progress: CheckProgress) -> str:
    """Whom the board lists first: who asked for help; when nobody did, who has not answered
    (still pending while the check is open, no response after)."""
    if progress.totals[SafetyResponse.Status.NEEDS_HELP].citizens:
        return SafetyResponse.Status.NEEDS_HELP
    if check.status == SafetyCheck.Status.OPEN:
        return SafetyResponse.Status.PENDING
    return SafetyResponse.Status.NO_RESPONSE


@staff_view
@require_http_methods(["GET"])
def check_progress_fragment(request: HttpRequest, check_id: str) -> HttpResponse:
    """The board's live part (answers by region and over time, the messages' delivery), which
    the board polls while the check is open."""
    check = selectors.check_for_staff(user=_user(request), check_id=check_id)
    if check is None or not check.is_started:
        raise Http404
    return render(
        request,
        "cases/_check_progress.html",
        {"progress": check_progress(check=check), "poll_seconds": BOARD_POLL_SECONDS},
    )


def _check_approval_page(request: HttpRequest, check: SafetyCheck) -> HttpResponse:
    user = _user(request)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    refusal = ""
    if request.method == "POST":
        refusal = _check_step(request, check, reject_form)
        if not refusal:
            messages.success(request, _CHECK_STEP_DONE[request.POST.get("action", "")])
            started = selectors.check_for_staff(user=user, check_id=check.id)
            if started is None:
                # An approver who sees no citizen: the check is on its way, its board is not
                # theirs to read.
                return redirect("cases:check_list")
            return redirect("cases:check_board", check_id=check.id)
    reach = selectors.check_reach(check=check)
    names = region_names(codes={*reach.by_region, *check.region_codes})
    _name_regions([check], names)
    author = check.created_by_id == user.id
    return render(
        request,
        "cases/check_approval.html",
        {
            "check": check,
            "reach": reach,
            "reach_by_region": [
                (region_label(code, names), counts) for code, counts in reach.by_region.items()
            ],
            "refusal": refusal,
            "reject_form": reject_form,
            "is_author": author,
            "urgent_mode": author
            and urgent_safety_check_post(user=user, country_code=check.country_id) is not None,
        },
        status=400 if refusal else 200,
    )


_CHECK_STEP_DONE = {
    "submit": gettext_lazy("The safety check is submitted for approval."),
    "approve": gettext_lazy("The safety check is approved and started."),
    "start_alone": gettext_lazy("The safety check is started (urgent mode)."),
    "reject": gettext_lazy("The safety check is sent back to its author."),
}
# How often an open check's board asks for its answers.
BOARD_POLL_SECONDS = 5
# The people listed on the board; the export has them all.
LIST_LIMIT = 500
EXPORT_STATUSES = (
    SafetyResponse.Status.NEEDS_HELP,
    SafetyResponse.Status.PENDING,
    SafetyResponse.Status.NO_RESPONSE,
)


@staff_view
@require_http_methods(["GET"])
def check_export(request: HttpRequest, check_id: str) -> HttpResponse:
    """The needs-help or no-response list of a check, for a crisis cell; recorded in the audit
    trail."""
    check = selectors.check_for_staff(user=_user(request), check_id=check_id)
    status = request.GET.get("status", "")
    if check is None or status not in EXPORT_STATUSES:
        raise Http404
    responses = selectors.responses_of_check(check_id=check.id, status=status)
    audit_record(
        request=request,
        action=Action.EXPORT,
        obj=check,
        detail={"via": "staff", "list": status},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="check-{check.code}-{status}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "region",
            "given_name",
            "family_name",
            "email",
            "phone",
            "people",
            "status",
            "help",
            "people_with_them",
            "location",
            "details",
            "answered_at",
        ]
    )
    for row in responses.iterator(chunk_size=1000):
        citizen = row.citizen
        assert citizen is not None  # noqa: S101 - responses_of_check lists linked answers only
        writer.writerow(
            [
                row.region_code,
                safe_cell(citizen.given_name),
                safe_cell(citizen.family_name),
                safe_cell(citizen.email),
                safe_cell(citizen.phone),
                row.people,
                row.status,
                row.help_kind,
                row.people_with_them or "",
                safe_cell(row.location),
                safe_cell(row.details),
                row.answered_at.isoformat() if row.answered_at else "",
            ]
        )
    return response


@staff_view
@require_http_methods(["GET", "POST"])
def case_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        _bulk_assign(request, user)
        return redirect(request.get_full_path())
    # Filters and sorting stick: the queue opened bare shows what it showed last, until the
    # officer clears them.
    if "clear" in request.GET:
        request.session.pop(QUEUE_SESSION_KEY, None)
        return redirect("cases:case_queue")
    if not request.GET and request.session.get(QUEUE_SESSION_KEY):
        return redirect(f"{request.path}?{request.session[QUEUE_SESSION_KEY]}")
    if request.GET:
        request.session[QUEUE_SESSION_KEY] = request.GET.urlencode()
    posts = [
        (post.code, post.name)
        for post in posts_of_user(user=user, roles=REGISTER_ROLES).order_by("name")
    ]
    filters = CaseFilterForm(request.GET or None, posts=posts)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    sort = request.GET.get("sort", "priority")
    if sort.removeprefix("-") not in selectors.CASE_ORDERINGS:
        sort = "priority"
    cases = selectors.cases_for_staff(
        user=user,
        status=cleaned.get("status") or None,
        kind=cleaned.get("kind") or None,
        priority=cleaned.get("priority"),
        assignee=cleaned.get("assignee") or None,
        post_code=cleaned.get("post") or None,
        sort=sort,
    )
    now = timezone.now()
    return render(
        request,
        "cases/case_queue.html",
        {
            "filters": filters,
            "rows": [
                (case, selectors.case_contact_sla(case=case, now=now))
                for case in cases[:QUEUE_LIMIT]
            ],
            "columns": _sort_links(request, sort),
            "filtered": bool(request.GET),
            "colleagues": colleagues_of_user(user=user, roles=REGISTER_ROLES),
            "now": now,
        },
    )


QUEUE_LIMIT = 200


def _bulk_assignee(request: HttpRequest, user: User) -> User | None:
    """The officer for "to me", else the colleague chosen (None when there is no such
    colleague)."""
    if request.POST.get("action") == "assign_me":
        return user
    chosen = request.POST.get("assignee", "")
    if not chosen.isdigit():
        return None
    return colleagues_of_user(user=user, roles=REGISTER_ROLES).filter(id=chosen).first()


def _bulk_assign(request: HttpRequest, user: User) -> None:
    """Assign the cases ticked on the queue to the officer or to a colleague, all or none,
    and say which."""
    case_ids = request.POST.getlist("case")
    assignee = _bulk_assignee(request, user)
    if assignee is None:
        messages.error(request, _("Choose whom to assign the selected cases to."))
        return
    try:
        done = case_services.cases_assign(case_ids=case_ids, assignee=assignee, actor=user)
    except ApplicationError as error:
        messages.error(request, str(error.message))
        return
    name = _("you") if assignee == user else assignee.get_username()
    text = ngettext(
        "%(count)d case assigned to %(name)s.",
        "%(count)d cases assigned to %(name)s.",
        done.assigned,
    ) % {"count": done.assigned, "name": name}
    if done.unchanged:
        text += " " + ngettext(
            "%(count)d was already with them.",
            "%(count)d were already with them.",
            done.unchanged,
        ) % {"count": done.unchanged}
    messages.success(request, text)


QUEUE_SESSION_KEY = "case_queue_query"


def _sort_links(request: HttpRequest, sort: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (the other way when it is the current
    order) and its `aria-sort`."""
    columns = {}
    for column in selectors.CASE_ORDERINGS:
        query = request.GET.copy()
        current = sort.removeprefix("-") == column
        query["sort"] = f"-{column}" if current and not sort.startswith("-") else column
        columns[column] = {
            "url": f"?{query.urlencode()}",
            "aria": ("descending" if sort.startswith("-") else "ascending") if current else "",
        }
    return columns


@staff_view
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: str) -> HttpResponse:
    user = _user(request)
    case = selectors.case_for_staff(user=user, case_id=case_id)
    if case is None:
        raise Http404
    note_form = NoteForm(prefix="note")
    status_form = StatusForm(prefix="status", initial={"status": case.status})
    message_form = MessageForm(prefix="message")
    if request.method == "POST":
        action, done = request.POST.get("action"), ""
        try:
            if action == "assign_me":
                case_services.case_assign(case=case, assignee=user, actor=user)
                done = _("The case is assigned to you.")
            elif action == "note":
                note_form = NoteForm(request.POST, prefix="note")
                if not note_form.is_valid():
                    raise _Invalid
                case_services.case_note_add(
                    case=case,
                    actor=user,
                    text=note_form.cleaned_data["text"],
                    kind=note_form.cleaned_data["kind"],
                )
                done = _("Added to the timeline.")
            elif action == "status":
                status_form = StatusForm(request.POST, prefix="status")
                if not status_form.is_valid():
                    raise _Invalid
                case_services.case_status_change(
                    case=case, status=status_form.cleaned_data["status"], actor=user
                )
                done = _("The status is changed.")
            elif action == "message":
                message_form = MessageForm(request.POST, prefix="message")
                if not message_form.is_valid():
                    raise _Invalid
                case_services.case_message_send(
                    case=case,
                    actor=user,
                    subject=message_form.cleaned_data["subject"],
                    text=message_form.cleaned_data["text"],
                )
                done = _("The message is on its way.")
            if done:
                messages.success(request, done)
            return redirect("cases:case_detail", case_id=case.id)
        except _Invalid:
            pass
        except ApplicationError as error:
            status_form.add_error(None, str(error.message))
    audit_record(request=request, action=Action.VIEW, obj=case, detail={"via": "staff"})
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "asked": selectors.case_request(case=case),
            "statuses": dict(Case.Status.choices),
            "timeline": selectors.case_timeline(case_id=case.id),
            "household": case.household_members.all(),
            "note_form": note_form,
            "status_form": status_form,
            "message_form": message_form,
            "now": timezone.now(),
            "open": case.status in Case.OPEN_STATUSES,
            "title": _("Case"),
        },
    )


class _Invalid(Exception):
    """A form of the case page did not validate: show it again with its errors."""
