"""Reads of safety checks and cases, scoped to the staff member's posts."""

import datetime
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min, Prefetch, Q, QuerySet, Sum

from accounts.models import Membership, User
from accounts.selectors import REGISTER_ROLES, country_codes_of_user, posts_of_user
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from core import personal_data
from notifications.selectors import RecipientCounts, message_preview, response_token_read
from regions.selectors import country_get, regions_of_country
from registrations.selectors import citizen_get

BOARD_STATUSES = [status.value for status in SafetyResponse.Status]
# Who may be the second person of a safety check: a post's officers, approvers and
# administrators (the author, an officer, never approves their own).
CHECK_APPROVER_ROLES = (Membership.Role.OFFICER, Membership.Role.APPROVER, Membership.Role.ADMIN)


def checks_for_staff(*, user: User) -> QuerySet[SafetyCheck]:
    """Safety checks in the countries the user's posts cover, for the consular staff (officers
    and post administrators): their boards and answers are about citizens, which advisory
    editors and approvers do not see."""
    return SafetyCheck.objects.filter(
        country_id__in=country_codes_of_user(user=user, roles=REGISTER_ROLES)
    )


def checks_open_in_country(*, user: User, country_code: str) -> QuerySet[SafetyCheck]:
    """The country's started checks still taking answers, for its consular staff, oldest
    first."""
    return (
        checks_for_staff(user=user)
        .filter(country_id=country_code.upper(), status=SafetyCheck.Status.OPEN)
        .order_by("started_at")
    )


def checks_to_approve(*, user: User) -> QuerySet[SafetyCheck]:
    """Checks awaiting a second person in the countries where the user may approve them
    (officers, approvers and administrators of a post covering the country). An approver sees
    the check, its question and its reach, never the citizens: nobody has answered yet."""
    # A subquery, so the scope costs no round trip of its own.
    countries = posts_of_user(user=user, roles=CHECK_APPROVER_ROLES).values("countries")
    return SafetyCheck.objects.filter(
        status=SafetyCheck.Status.AWAITING_APPROVAL, country_id__in=countries
    )


def checks_for_staff_or_approval(*, user: User) -> QuerySet[SafetyCheck]:
    """The checks the user works on or may approve: where a check's page and its approval
    steps look them up."""
    return SafetyCheck.objects.filter(
        Q(id__in=checks_for_staff(user=user).values("id"))
        | Q(id__in=checks_to_approve(user=user).values("id"))
    ).select_related("country", "created_by", "approved_by")


def check_for_staff_or_approval(*, user: User, check_id: uuid.UUID | str) -> SafetyCheck | None:
    try:
        return checks_for_staff_or_approval(user=user).filter(id=check_id).first()
    except ValueError:
        return None


def check_reach(*, check: SafetyCheck) -> RecipientCounts:
    """Who starting the check now would write to: people and messages by region, channel and
    language, counted by the very SQL the question's fan-out inserts with."""
    return message_preview(
        country_code=check.country_id,
        region_codes=check.region_codes,
        send_email=check.send_email,
        send_sms=check.send_sms,
    )


@dataclass(frozen=True)
class CheckArea:
    """A country where the user may start a safety check, with its regions (code, name)."""

    country_code: str
    country_name: str
    regions: list[tuple[str, str]]


def check_areas_for_staff(*, user: User) -> list[CheckArea]:
    areas = []
    for code in sorted(country_codes_of_user(user=user, roles=REGISTER_ROLES)):
        country = country_get(code=code)
        regions = [(region.code, region.name) for region in regions_of_country(country_code=code)]
        areas.append(CheckArea(code, country.name if country else code, regions))
    return areas


def check_for_staff(*, user: User, check_id: uuid.UUID | str) -> SafetyCheck | None:
    try:
        return checks_for_staff(user=user).filter(id=check_id).first()
    except ValueError:
        return None


@dataclass
class Tally:
    citizens: int = 0
    people: int = 0


@dataclass
class Board:
    """A check's standing: per status, and per region and status, citizens asked and people
    (citizens with their households)."""

    totals: dict[str, Tally] = field(default_factory=dict)
    regions: dict[str, dict[str, Tally]] = field(default_factory=dict)


def check_board(*, check_id: uuid.UUID) -> Board:
    """One grouped query over the check's responses, whatever their number."""
    return check_boards(check_ids=[check_id])[check_id]


def check_boards(*, check_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Board]:
    """The boards of several checks in one grouped query, whatever their number of checks
    and responses (a country's console shows every open check)."""
    rows = (
        SafetyResponse.objects.filter(safety_check_id__in=list(check_ids))
        .values_list("safety_check_id", "region_code", "status")
        .annotate(citizens=Count("id"), people=Sum("people"))
        .order_by()
    )
    boards = {
        check_id: Board(totals={status: Tally() for status in BOARD_STATUSES})
        for check_id in check_ids
    }
    regions: dict[uuid.UUID, dict[str, dict[str, Tally]]] = {
        check_id: defaultdict(lambda: {status: Tally() for status in BOARD_STATUSES})
        for check_id in check_ids
    }
    for check_id, region_code, status, citizens, people in rows:
        board = boards[check_id]
        board.totals[status].citizens += citizens
        board.totals[status].people += people or 0
        regions[check_id][region_code][status] = Tally(citizens=citizens, people=people or 0)
    for check_id, board in boards.items():
        board.regions = dict(sorted(regions[check_id].items()))
    return boards


def responses_of_check(
    *, check_id: uuid.UUID, status: str | None = None
) -> QuerySet[SafetyResponse]:
    # The people to follow up: an erased citizen's answer still counts on the board, but there
    # is nobody left to list.
    responses = SafetyResponse.objects.filter(
        safety_check_id=check_id, citizen__isnull=False
    ).select_related("citizen")
    if status:
        responses = responses.filter(status=status)
    return responses.order_by("region_code", "citizen__family_name", "id")


def check_of_response_token(token: str) -> tuple[SafetyCheck, str] | None:
    """The check and citizen a signed email link answers for, if the link is genuine and the
    citizen was asked."""
    read = response_token_read(token)
    if read is None:
        return None
    alert_id, citizen_id = read
    check = SafetyCheck.objects.filter(
        Q(question_alert_id=alert_id) | Q(reminder_alert_id=alert_id)
    ).first()
    if check is None or citizen_get(citizen_id=citizen_id) is None:
        # The citizen may have erased their registration since.
        return None
    return check, citizen_id


def response_of(*, check: SafetyCheck, citizen_id: uuid.UUID | str) -> SafetyResponse | None:
    return SafetyResponse.objects.filter(safety_check=check, citizen_id=citizen_id).first()


def open_check_of_citizen(*, citizen_id: uuid.UUID | str) -> SafetyCheck | None:
    """The latest open check that asked the citizen, for their own page."""
    return (
        SafetyCheck.objects.filter(status=SafetyCheck.Status.OPEN, responses__citizen_id=citizen_id)
        .order_by("-created_at")
        .first()
    )


def case_open_of_citizen(*, citizen_id: uuid.UUID | str, check: SafetyCheck | None) -> Case | None:
    """The citizen's open case about this check (or about no check), the newest, with its post:
    what the page after "I need help" tells them to quote and whom to call."""
    return (
        Case.objects.filter(
            citizen_id=citizen_id, safety_check=check, status__in=Case.OPEN_STATUSES
        )
        .select_related("post")
        .order_by("-created_at")
        .first()
    )


# The queue's sortable columns: each one's order, then the oldest first among equals. A
# column asked for with "-" before it reads the other way.
CASE_ORDERINGS: dict[str, tuple[str, ...]] = {
    "age": ("created_at",),
    "priority": ("-priority", "created_at"),
    "status": ("status", "created_at"),
    "region": ("region__name_en", "created_at"),
    "assignee": ("assignee__username", "created_at"),
}


def _case_order(sort: str) -> tuple[str, ...]:
    column = sort.removeprefix("-")
    fields = CASE_ORDERINGS.get(column, CASE_ORDERINGS["priority"])
    if sort.startswith("-") and column in CASE_ORDERINGS:
        return tuple(
            field.removeprefix("-") if field.startswith("-") else f"-{field}" for field in fields
        )
    return fields


def cases_for_staff(
    *,
    user: User,
    status: str | None = None,
    kind: str | None = None,
    priority: int | None = None,
    assignee: str | None = None,
    post_code: str | None = None,
    safety_check_id: uuid.UUID | None = None,
    sort: str = "priority",
) -> QuerySet[Case]:
    """The cases of the posts where the user is consular staff (officer, post administrator:
    a case names a citizen), narrowed by the queue's filters. `assignee` is a user id, "me" or
    "none"; `sort` one of `CASE_ORDERINGS` (priority when it is none), "-" first to reverse."""
    cases = Case.objects.filter(post__in=posts_of_user(user=user, roles=REGISTER_ROLES))
    if status:
        cases = cases.filter(status=status)
    if kind:
        cases = cases.filter(kind=kind)
    if priority:
        cases = cases.filter(priority=priority)
    if assignee == "me":
        cases = cases.filter(assignee=user)
    elif assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif assignee and assignee.isdigit():
        cases = cases.filter(assignee_id=int(assignee))
    if post_code:
        cases = cases.filter(post__code=post_code)
    if safety_check_id:
        cases = cases.filter(safety_check_id=safety_check_id)
    return cases.select_related(
        "post", "country", "region", "citizen", "assignee", "safety_check"
    ).order_by(*_case_order(sort))


@dataclass(frozen=True)
class CaseStatusCount:
    status: str
    label: str
    count: int
    oldest_opened_at: datetime.datetime


def case_counts_by_status(*, user: User, country_code: str) -> list[CaseStatusCount]:
    """The country's cases the user may see, counted by status with the oldest one's opening
    time, in the statuses' order (one grouped query)."""
    rows = {
        status: (count, oldest)
        for status, count, oldest in Case.objects.filter(
            post__in=posts_of_user(user=user, roles=REGISTER_ROLES),
            country_id=country_code.upper(),
        )
        .values_list("status")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by()
    }
    return [
        CaseStatusCount(
            status=value, label=str(label), count=rows[value][0], oldest_opened_at=rows[value][1]
        )
        for value, label in Case.Status.choices
        if value in rows
    ]


@dataclass(frozen=True)
class ContactSla:
    """Where a case stands against its priority's time to first contact
    (`CASE_CONTACT_SLA_MINUTES`): "due" (seconds left), "overdue" (seconds past) while it is
    new; "contacted" once staff moved it on."""

    state: str
    due_at: datetime.datetime
    seconds: int


def case_contact_sla(*, case: Case, now: datetime.datetime) -> ContactSla:
    minutes = settings.CASE_CONTACT_SLA_MINUTES[case.priority]
    due_at = case.created_at + datetime.timedelta(minutes=minutes)
    if case.status != Case.Status.NEW:
        return ContactSla(state="contacted", due_at=due_at, seconds=0)
    left = round((due_at - now).total_seconds())
    if left < 0:
        return ContactSla(state="overdue", due_at=due_at, seconds=-left)
    return ContactSla(state="due", due_at=due_at, seconds=left)


def case_for_staff(*, user: User, case_id: uuid.UUID | str) -> Case | None:
    try:
        return cases_for_staff(user=user).filter(id=case_id).first()
    except ValueError:
        return None


@dataclass(frozen=True)
class CaseRequest:
    """What the person asked for, as the top of the case page says it: how many people, where
    they said they are and their own words ("" when they gave none)."""

    people: int
    location: str
    words: str


def case_request(*, case: Case) -> CaseRequest:
    """Read from their safety-check answer for a call for help (two queries at most), from the
    case's opening otherwise."""
    household = case.household_members.count()
    if case.source == Case.Source.NEEDS_HELP and case.citizen_id and case.safety_check_id:
        answer = SafetyResponse.objects.filter(
            safety_check_id=case.safety_check_id, citizen_id=case.citizen_id
        ).first()
        if answer is not None:
            return CaseRequest(
                people=answer.people_with_them or answer.people,
                location=answer.location,
                words=answer.details,
            )
    words = ""
    if case.source == Case.Source.CITIZEN:
        opened = CaseEvent.objects.filter(case_id=case.id, kind=CaseEvent.Kind.OPENED).first()
        words = opened.text if opened else ""
    return CaseRequest(people=1 + household, location="", words=words)


def case_timeline(*, case_id: uuid.UUID | str) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case_id=case_id).select_related("actor")


# What of a case the citizen is given in their export: what they told us, what we sent them
# and where the case stands. Notes, calls and assignments are the post's working notes, and
# the comments staff write on a status change or on a case they open are theirs too.
_CITIZEN_WORDS = (CaseEvent.Kind.MESSAGE, CaseEvent.Kind.RESPONSE)
_SHARED_EVENTS = (*_CITIZEN_WORDS, CaseEvent.Kind.OPENED, CaseEvent.Kind.STATUS)


def _event_row(case: Case, event: CaseEvent) -> dict[str, object]:
    shared_text = event.kind in _CITIZEN_WORDS or (
        event.kind == CaseEvent.Kind.OPENED and case.source != Case.Source.STAFF
    )
    row: dict[str, object] = {
        "kind": event.kind,
        "at": personal_data.json_value(event.created_at),
        "text": event.text if shared_text else "",
    }
    if event.kind == CaseEvent.Kind.STATUS:
        row["from"], row["to"] = event.data.get("from"), event.data.get("to")
    return row


def citizen_data_export(citizen_id: uuid.UUID) -> personal_data.Sections:
    """Safety checks' answers and the cases about one citizen, for their export."""
    responses = (
        SafetyResponse.objects.filter(citizen_id=citizen_id)
        .select_related("safety_check")
        .order_by("id")
    )
    cases = (
        Case.objects.filter(citizen_id=citizen_id)
        .select_related("safety_check")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=CaseEvent.objects.filter(kind__in=_SHARED_EVENTS).order_by(
                    "created_at", "id"
                ),
            ),
            "household_members",
        )
        .order_by("created_at")
    )
    return {
        "safety_responses": [
            {
                "safety_check": response.safety_check.code,
                "country": response.safety_check.country_id,
                **personal_data.as_row(response, exclude={"id", "citizen", "safety_check"}),
            }
            for response in responses
        ],
        "cases": [
            {
                **personal_data.as_row(
                    case,
                    exclude={
                        "citizen",
                        "post",
                        "priority",
                        "assignee",
                        "opened_by",
                        "safety_check",
                        "updated_at",
                    },
                ),
                "safety_check": case.safety_check.code if case.safety_check else None,
                "household_members": [member.name for member in case.household_members.all()],
                "timeline": [_event_row(case, event) for event in case.events.all()],
            }
            for case in cases
        ],
    }
