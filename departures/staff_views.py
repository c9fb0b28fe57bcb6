"""Staff pages of an assisted departure: the operations of the user's posts, and each one's
board (counts, options, the queue) with its steps. Every step calls the service, which
checks the role; a refusal is shown on the page with nothing changed."""

import uuid
from collections import Counter
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.selectors import REGISTER_ROLES, country_codes_of_user
from core.audit import Action, audit_record
from core.exceptions import ApplicationError
from core.http import staff_view
from departures import manifests, selectors
from departures.models import Boarding, DepartureOperation, Offer, PriorityGroup
from departures.services import allocation, boarding, intents, operations, options
from departures.staff_forms import CapacityForm, OperationForm, OptionForm, PriorityForm
from regions.selectors import countries_with_codes

QUEUE_SHOWN = 200


def _posted_id(request: HttpRequest, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.POST.get(name, ""))
    except ValueError:
        raise Http404 from None


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@staff_view
@require_http_methods(["GET", "POST"])
def operation_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    codes = country_codes_of_user(user=user, roles=REGISTER_ROLES)
    countries = [(country.code, country.name) for country in countries_with_codes(codes=codes)]
    form = OperationForm(request.POST or None, countries=countries)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            operation = operations.operation_open(
                opened_by=user,
                country_code=data["country"],
                fields=operations.OperationFields(
                    region_codes=[code for code in data["regions"].split(",") if code.strip()],
                    eligibility_en=data["eligibility_en"],
                    eligibility_fr=data["eligibility_fr"],
                    baggage_policy_en=data["baggage_policy_en"],
                    baggage_policy_fr=data["baggage_policy_fr"],
                    assembly_instructions_en=data["assembly_instructions_en"],
                    assembly_instructions_fr=data["assembly_instructions_fr"],
                ),
            )
        except ApplicationError as error:
            form.add_error(None, str(error.message))
            status = error.status_code
        else:
            return redirect("departures:operation_board", operation_id=operation.id)
    return render(
        request,
        "departures/operation_list.html",
        {
            "operations": selectors.operations_for_staff(user=user).select_related("country")[:100],
            "form": form,
            "can_open": bool(countries),
        },
        status=status,
    )


def _step(request: HttpRequest, operation: DepartureOperation) -> None:
    """The step the POST names; raises the service's refusal."""
    user, step = _user(request), request.POST.get("action", "")
    if step == "submit":
        operations.operation_submit(operation=operation, submitted_by=user)
    elif step == "approve":
        operations.operation_approve(operation=operation, approver=user)
    elif step == "reject":
        operations.operation_reject(
            operation=operation, rejected_by=user, reason=request.POST.get("reason", "")
        )
    elif step == "close":
        operations.operation_close(operation=operation, closed_by=user)
    elif step == "allocate":
        allocation.allocation_run(operation=operation, run_by=user)
    elif step in ("capacity", "cancel"):
        option = (
            selectors.options_for_staff(user=user)
            .filter(operation=operation, id=_posted_id(request, "option"))
            .first()
        )
        if option is None:
            raise Http404
        if step == "capacity":
            capacity = CapacityForm(request.POST)
            if not capacity.is_valid():
                raise ApplicationError(capacity.errors.as_text(), field="capacity")
            options.option_change_capacity(
                option=option, changed_by=user, capacity=capacity.cleaned_data["capacity"]
            )
        else:
            options.option_cancel(
                option=option, cancelled_by=user, reason=request.POST.get("reason", "")
            )
    elif step == "priority":
        intent = (
            selectors.intents_for_staff(user=user)
            .filter(operation=operation, id=_posted_id(request, "intent"))
            .first()
        )
        if intent is None:
            raise Http404
        priority = PriorityForm(request.POST)
        if not priority.is_valid():
            raise ApplicationError(priority.errors.as_text(), field="priority")
        intents.intent_priority_set(
            intent=intent,
            set_by=user,
            group=priority.cleaned_data["priority"],
            reason=priority.cleaned_data["reason"],
        )
    else:
        raise Http404


@staff_view
@require_http_methods(["GET", "POST"])
def operation_board(request: HttpRequest, operation_id: str) -> HttpResponse:
    user = _user(request)
    operation = selectors.operations_for_staff(user=user).filter(id=operation_id).first()
    if operation is None:
        raise Http404
    adding = request.method == "POST" and request.POST.get("action") == "add_option"
    option_form = OptionForm(request.POST if adding else None)
    refusal, status = "", 200
    if request.method == "POST":
        try:
            if adding:
                if option_form.is_valid():
                    options.option_add(
                        operation=operation,
                        added_by=user,
                        fields=options.OptionFields(**option_form.cleaned_data),
                    )
                    return redirect("departures:operation_board", operation_id=operation.id)
                status = 400
            else:
                _step(request, operation)
                return redirect("departures:operation_board", operation_id=operation.id)
        except ApplicationError as error:
            refusal, status = str(error.message), error.status_code
    board = selectors.operation_board(operation=operation)
    queue = list(selectors.queue_of_operation(operation=operation)[:QUEUE_SHOWN])
    seats = {row.id: row for row in board.options}
    context: dict[str, Any] = {
        "operation": operation,
        "board": board,
        "options": [(option, seats[option.id]) for option in operation.options.all()],
        "breakdowns": [
            (_("By region"), board.regions),
            (_("By priority group"), board.priorities),
        ],
        "queue": queue,
        "groups": PriorityGroup.choices,
        "option_form": option_form,
        "refusal": refusal,
    }
    return render(request, "departures/operation_board.html", context, status=status)


def _option_of_staff(request: HttpRequest, option_id: uuid.UUID) -> Any:
    option = selectors.options_for_staff(user=_user(request)).filter(id=option_id).first()
    if option is None:
        raise Http404
    return option


@staff_view
@require_http_methods(["GET"])
def manifest(request: HttpRequest, option_id: uuid.UUID) -> HttpResponse:
    """The option's manifest, to print; recorded in the audit trail."""
    option = _option_of_staff(request, option_id)
    rows = manifests.manifest_rows(option=option)
    audit_record(request=request, action=Action.VIEW, obj=option, detail={"list": "manifest"})
    return render(request, "departures/manifest.html", {"option": option, "rows": rows})


@staff_view
@require_http_methods(["GET"])
def manifest_csv(request: HttpRequest, option_id: uuid.UUID) -> HttpResponse:
    """The option's manifest as CSV, with the DS-5528 columns; recorded in the audit trail."""
    option = _option_of_staff(request, option_id)
    rows = manifests.manifest_rows(option=option)
    audit_record(
        request=request,
        action=Action.EXPORT,
        obj=option,
        detail={"list": "manifest", "rows": len(rows)},
    )
    response = HttpResponse(manifests.manifest_csv(rows), content_type="text/csv; charset=utf-8")
    stamp = option.departs_at.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="manifest-{stamp}.csv"'
    return response


def _confirmation(state: str, *, name: str, reference: str) -> str:
    texts = {
        Boarding.State.PRESENT: _("%(name)s (%(reference)s) is checked in."),
        Boarding.State.BOARDED: _(
            "%(name)s (%(reference)s) has boarded: their presence in the country ended."
        ),
        Boarding.State.NO_SHOW: _("%(name)s (%(reference)s) is marked as not come."),
    }
    return texts[Boarding.State(state)] % {"name": name, "reference": reference}


@staff_view
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, option_id: uuid.UUID) -> HttpResponse:
    """The assembly point, on a phone: find a person by name, by their reference or by the
    code their page shows (a scanner app pastes it in the field), then mark them present,
    boarded or not come. Boarding, which cannot be undone, asks to confirm first. Searches
    are posted, so that no name reaches a URL or a log."""
    option = _option_of_staff(request, option_id)
    query = request.POST.get("q", "")[:200] if request.method == "POST" else ""
    everyone = manifests.manifest_entries(option=option, states=(Offer.State.ACCEPTED,))
    to_confirm, refusal, status = None, "", 200
    if request.method == "POST" and request.POST.get("action") == "mark":
        traveller_id = _posted_id(request, "traveller")
        state = request.POST.get("state", "")
        entry = next((e for e in everyone if e.traveller_id == traveller_id), None)
        confirmed = request.POST.get("confirm") == "yes"
        if state == Boarding.State.BOARDED and not confirmed and entry is not None:
            to_confirm = entry
        else:
            try:
                boarding.boarding_mark(
                    option=option, traveller_id=traveller_id, state=state, marked_by=_user(request)
                )
            except ApplicationError as error:
                refusal, status = str(error.message), error.status_code
            else:
                assert entry is not None  # noqa: S101 - the service found the person
                messages.success(
                    request,
                    _confirmation(state, name=entry.row.name, reference=entry.row.reference),
                )
                return redirect("departures:checkin", option_id=option.id)
    entries = manifests.checkin_match(entries=everyone, query=query) if query else []
    if entries:
        audit_record(request=request, action=Action.VIEW, obj=option, detail={"list": "checkin"})
    counts = Counter(entry.row.boarding for entry in everyone)
    return render(
        request,
        "departures/checkin.html",
        {
            "option": option,
            "query": query,
            "searched": bool(query),
            "entries": entries,
            "to_confirm": to_confirm,
            "refusal": refusal,
            "expected": len(everyone),
            "present": counts[Boarding.State.PRESENT],
            "boarded": counts[Boarding.State.BOARDED],
            "no_show": counts[Boarding.State.NO_SHOW],
        },
        status=status,
    )
