"""Safety checks, their answers, and the cases that follow.

Messages to citizens go through the alerts' ledger (`message_alert_create`), never straight to
a channel: every question, reminder and clarification is a Delivery row with its status."""

import datetime
import logging
import re
import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Post, User
from accounts.permissions import require_role
from accounts.selectors import (
    REGISTER_ROLES,
    country_codes_of_user,
    posts_covering_country,
    posts_of_user,
)
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from core import personal_data
from core.crypto import row_key_sql, rows_update
from core.exceptions import Conflict, NotFound, ValidationFailed
from core.ratelimit import hit
from notifications.events import InboundSmsReceived
from notifications.messaging import MessageTexts, message_alert_create
from notifications.models import Alert
from notifications.services import inbound_message_claim
from regions.selectors import regions_of_country
from registrations.models import HouseholdMember
from registrations.selectors import (
    citizen_ids_by_phone,
    citizens_for_staff,
    citizens_present_in_regions,
)

logger = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SAFE_WORDS = {"SAFE", "OK", "SECURE", "SECURITE", "SÉCURITÉ"}
HELP_WORDS = {"HELP", "AIDE", "SOS"}
CLARIFICATIONS_PER_HOUR = 3

# Which kind of case a "needs help" answer opens, and how urgent it is.
HELP_CASE_KIND = {
    SafetyResponse.HelpKind.EVACUATION: (Case.Kind.EVACUATION, Case.Priority.URGENT),
    SafetyResponse.HelpKind.MEDICAL: (Case.Kind.MEDICAL, Case.Priority.URGENT),
    SafetyResponse.HelpKind.DOCUMENTS: (Case.Kind.DOCUMENTS, Case.Priority.NORMAL),
    SafetyResponse.HelpKind.OTHER: (Case.Kind.OTHER, Case.Priority.HIGH),
    "": (Case.Kind.OTHER, Case.Priority.HIGH),
}

# Allowed moves of a case's status; a closed case stays closed.
TRANSITIONS: dict[str, set[str]] = {
    Case.Status.NEW: {
        Case.Status.CONTACTED,
        Case.Status.IN_PROGRESS,
        Case.Status.RESOLVED,
        Case.Status.CLOSED,
    },
    Case.Status.CONTACTED: {Case.Status.IN_PROGRESS, Case.Status.RESOLVED, Case.Status.CLOSED},
    Case.Status.IN_PROGRESS: {Case.Status.CONTACTED, Case.Status.RESOLVED, Case.Status.CLOSED},
    Case.Status.RESOLVED: {Case.Status.IN_PROGRESS, Case.Status.CLOSED},
    Case.Status.CLOSED: set(),
}


@dataclass(frozen=True)
class Answer:
    status: str  # safe | needs_help
    via: str
    people_with_them: int | None = None
    location: str = ""
    help_kind: str = ""
    details: str = ""


@dataclass(frozen=True)
class TickResult:
    reminded: int = 0
    escalated: int = 0
    closed: int = 0
    cases_opened: int = 0


# --- Safety checks ----------------------------------------------------------------------------


def response_url_template() -> str:
    path = reverse("cases:respond", kwargs={"token": "TOKEN"})
    return settings.SITE_URL + path.replace("TOKEN", "{token}")


def _question_texts(check: SafetyCheck) -> dict[str, MessageTexts]:
    texts = {}
    deadline = timezone.localtime(check.deadline).strftime("%Y-%m-%d %H:%M")
    for language in ("en", "fr"):
        question = check.question_fr if language == "fr" else check.question_en
        with translation.override(language):
            reply = _("Reply SAFE %(code)s or HELP %(code)s.") % {"code": check.code}
            texts[language] = MessageTexts(
                subject=_("Are you safe? Please answer before %(deadline)s")
                % {"deadline": deadline},
                text="\n\n".join(
                    [
                        _("Hello {name},"),
                        question,
                        _("I am safe: %(url)s") % {"url": "{response_url}safe/"},
                        _("I need help: %(url)s") % {"url": "{response_url}help/"},
                        _("You can also answer by text message. %(reply)s") % {"reply": reply},
                        _("Please answer before %(deadline)s.") % {"deadline": deadline},
                    ]
                ),
                sms=f"{question} {reply}",
            )
    return texts


def _reminder_texts(check: SafetyCheck) -> dict[str, MessageTexts]:
    base = _question_texts(check)
    texts = {}
    for language, message in base.items():
        with translation.override(language):
            prefix = _("Reminder:")
        texts[language] = MessageTexts(
            subject=f"{prefix} {message.subject}",
            text=message.text,
            sms=f"{prefix} {message.sms}",
        )
    return texts


def _emergency_texts(check: SafetyCheck) -> dict[str, MessageTexts]:
    texts = {}
    posts = list(posts_covering_country(country_code=check.country_id)[:1])
    phone = posts[0].emergency_phone if posts else ""
    for language in ("en", "fr"):
        with translation.override(language):
            body = _(
                "{name} gave you as their emergency contact. We asked them whether they are "
                "safe and have had no answer yet. If you have news of them, please call "
                "%(phone)s."
            ) % {"phone": phone}
            texts[language] = MessageTexts(
                subject=_("Have you heard from {name}?"), text=body, sms=body
            )
    return texts


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))


def _insert_responses(check: SafetyCheck) -> int:
    """One pending response per citizen present in the check's regions, with the size of their
    household, in one INSERT ... SELECT."""
    household = (
        HouseholdMember.objects.filter(citizen_id=OuterRef("pk"))
        .order_by()
        .values("citizen_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    recipients = (
        citizens_present_in_regions(
            country_code=check.country_id,
            region_codes=check.region_codes,
            on_date=timezone.localdate(),
        )
        .annotate(household=Coalesce(Subquery(household, output_field=IntegerField()), Value(0)))
        .values("id", "matched_region_code", "household")
    )
    sql, params = recipients.query.sql_with_params()
    table = SafetyResponse._meta.db_table
    statement = f"""
        INSERT INTO {table} (row_key, safety_check_id, citizen_id, region_code, people, status,
            via, location, help_kind, details, created_at)
        SELECT {row_key_sql(connection)}, %s, r.id, COALESCE(r.matched_region_code, ''),
            1 + r.household, 'pending', '', '', '', '', %s
        FROM ({sql}) r
        -- SQLite needs a WHERE to tell ON CONFLICT from a join's ON.
        WHERE true
        ON CONFLICT (safety_check_id, citizen_id) DO NOTHING
    """  # noqa: S608 - the table name comes from model metadata, values are parameters
    check_key = SafetyCheck._meta.pk.get_db_prep_value(check.id, connection)
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(statement, [check_key, stamp, *params])
        return max(cursor.rowcount, 0)


def safety_check_start(
    *,
    started_by: User,
    country_code: str,
    region_codes: Sequence[str],
    question_en: str,
    question_fr: str = "",
    deadline: datetime.datetime,
    send_email: bool = True,
    send_sms: bool = True,
    reminder_minutes: int | None = 120,
    escalate_to_emergency_contact: bool = True,
    open_case_on_no_response: bool = False,
    alert_id: uuid.UUID | str | None = None,
) -> SafetyCheck:
    """Ask everyone present in the regions whether they are safe; each gets a pending
    response row now, so the board counts from the first second."""
    country_code = country_code.upper()
    require_role(
        user=started_by,
        roles=REGISTER_ROLES,
        country_code=country_code,
        message=_("You cannot start a safety check in this country."),
    )
    known = {region.code for region in regions_of_country(country_code=country_code)}
    region_codes = sorted({code.upper() for code in region_codes})
    if not region_codes or not set(region_codes) <= known:
        raise ValidationFailed(_("Choose regions of the country."), field="region_codes")
    if deadline <= timezone.now():
        raise ValidationFailed(_("The deadline must be in the future."), field="deadline")
    if not (send_email or send_sms):
        raise ValidationFailed(_("Choose at least one channel."), field="send_email")
    if not question_en.strip():
        raise ValidationFailed(_("Write the question."), field="question_en")
    if (
        alert_id is not None
        and not Alert.objects.filter(id=alert_id, country_id=country_code).exists()
    ):
        raise ValidationFailed(_("No such alert for this country."), field="alert")
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    check = SafetyCheck.objects.create(
                        code=_new_code(),
                        country_id=country_code,
                        region_codes=region_codes,
                        alert_id=alert_id,
                        question_en=question_en.strip(),
                        question_fr=question_fr.strip() or question_en.strip(),
                        deadline=deadline,
                        send_email=send_email,
                        send_sms=send_sms,
                        reminder_minutes=reminder_minutes,
                        escalate_to_emergency_contact=escalate_to_emergency_contact,
                        open_case_on_no_response=open_case_on_no_response,
                        created_by=started_by,
                    )
                break
            except IntegrityError:
                continue
        else:
            raise Conflict(_("Could not find a free reference code; try again."))
        _insert_responses(check)
        check.question_alert = message_alert_create(
            country_code=country_code,
            region_codes=region_codes,
            texts=_question_texts(check),
            created_by=started_by,
            send_email=send_email,
            send_sms=send_sms,
            response_url_template=response_url_template(),
        )
        check.save(update_fields=["question_alert", "updated_at"])
    return check


def _help_case_open(
    *, response: SafetyResponse, check: SafetyCheck, citizen_id: uuid.UUID | str
) -> Case:
    """The open case of a "needs help" answer: opened once, updated by later answers."""
    kind, priority = HELP_CASE_KIND[response.help_kind]
    summary = _("Asked for help in safety check %(code)s") % {"code": check.code}
    try:
        with transaction.atomic():
            return _case_create(
                kind=kind,
                priority=priority,
                source=Case.Source.NEEDS_HELP,
                country_code=check.country_id,
                region_code=response.region_code,
                citizen_id=citizen_id,
                safety_check=check,
                summary=summary,
                opened_by=None,
                # Whoever the citizen registered with them was asked through them.
                household_member_ids=list(
                    HouseholdMember.objects.filter(citizen_id=citizen_id).values_list(
                        "id", flat=True
                    )
                ),
                text=_answer_text(response),
            )
    except IntegrityError:
        case = Case.objects.get(
            safety_check=check, citizen_id=citizen_id, status__in=Case.OPEN_STATUSES
        )
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.RESPONSE, text=_answer_text(response)
        )
        return case


def _answer_text(response: SafetyResponse) -> str:
    parts = [str(response.get_status_display())]
    if response.help_kind:
        parts.append(str(response.get_help_kind_display()))
    if response.people_with_them is not None:
        parts.append(_("%(n)d people") % {"n": response.people_with_them})
    if response.location:
        parts.append(response.location)
    if response.details:
        parts.append(response.details)
    return " · ".join(parts)


def response_record(
    *, check: SafetyCheck, citizen_id: uuid.UUID | str, answer: Answer
) -> SafetyResponse:
    """Record a citizen's answer; it replaces any earlier one. "Needs help" opens (or adds to)
    the citizen's case for this check; "safe" after a call for help is written on that case."""
    if answer.status not in (SafetyResponse.Status.SAFE, SafetyResponse.Status.NEEDS_HELP):
        raise ValidationFailed(_("Answer safe or needs help."), field="status")
    now = timezone.now()
    with transaction.atomic():
        response, _created = SafetyResponse.objects.select_for_update().get_or_create(
            safety_check=check, citizen_id=citizen_id
        )
        response.status = answer.status
        response.via = answer.via
        response.people_with_them = answer.people_with_them
        response.location = answer.location[:300]
        response.help_kind = answer.help_kind
        response.details = answer.details[:2000]
        response.answered_at = now
        response.save()
        if answer.status == SafetyResponse.Status.NEEDS_HELP:
            _help_case_open(response=response, check=check, citizen_id=citizen_id)
        else:
            for case in Case.objects.filter(
                safety_check=check, citizen_id=citizen_id, status__in=Case.OPEN_STATUSES
            ):
                CaseEvent.objects.create(
                    case=case, kind=CaseEvent.Kind.RESPONSE, text=_answer_text(response)
                )
    return response


def _clarify(*, citizen_id: str, country_code: str, code: str) -> None:
    texts = {}
    for language in ("en", "fr"):
        with translation.override(language):
            text = _("Sorry, we did not understand. Reply SAFE %(code)s or HELP %(code)s.") % {
                "code": code
            }
        texts[language] = MessageTexts(subject=text, text=text, sms=text)
    message_alert_create(
        country_code=country_code, citizen_ids=[citizen_id], texts=texts, send_email=False
    )


def _open_checks_of(citizen_ids: Collection[uuid.UUID | str]) -> list[SafetyResponse]:
    return list(
        SafetyResponse.objects.filter(
            citizen_id__in=list(citizen_ids), safety_check__status=SafetyCheck.Status.OPEN
        )
        .select_related("safety_check")
        .order_by("-safety_check__created_at")
    )


@transaction.atomic
def sms_reply_handle(*, event: InboundSmsReceived) -> str:
    """A text from a citizen: SAFE or HELP (with the check's code) records an answer; anything
    else, from someone with an open check, gets a short clarification. Returns what was done.

    Once per message: it is claimed in the transaction that acts on it, so the same event
    twice (relayed again, or its task redelivered) records nothing and sends nothing more."""
    if event.citizen_id is None:
        return "unknown_sender"
    message = inbound_message_claim(message_id=event.message_id)
    if message is None:
        return "unknown_or_handled"
    words = re.findall(r"[\wÀ-ÿ]+", message.body.upper())
    keyword = next((w for w in words if w in SAFE_WORDS or w in HELP_WORDS), None)
    # Everyone sharing this verified number (a couple, say) may be the one answering.
    citizen_ids = citizen_ids_by_phone(phone=message.sender) or [uuid.UUID(event.citizen_id)]
    open_responses = _open_checks_of(citizen_ids)
    if not open_responses:
        return "no_open_check"
    named = [r for r in open_responses if r.safety_check.code in words]
    if keyword is None or (len({r.safety_check_id for r in open_responses}) > 1 and not named):
        # A chatty or looping sender must not turn us into a text-message pump.
        if not hit(
            key=f"cases-clarify:{event.citizen_id}",
            limit=CLARIFICATIONS_PER_HOUR,
            window_seconds=3600,
        ):
            return "clarification_limited"
        latest = open_responses[0]
        _clarify(
            citizen_id=event.citizen_id,
            country_code=latest.safety_check.country_id,
            code=latest.safety_check.code,
        )
        return "clarified"
    chosen = named[0] if named else open_responses[0]
    # Found by citizen id, an open check's answer names its citizen.
    assert chosen.citizen_id is not None  # noqa: S101
    status = (
        SafetyResponse.Status.SAFE if keyword in SAFE_WORDS else SafetyResponse.Status.NEEDS_HELP
    )
    response_record(
        check=chosen.safety_check,
        citizen_id=chosen.citizen_id,
        answer=Answer(status=status, via=SafetyResponse.Via.SMS, details=message.body[:500]),
    )
    return status


def _pending_ids(check: SafetyCheck) -> list[str]:
    return [
        str(citizen_id)
        for citizen_id in SafetyResponse.objects.filter(
            safety_check=check, status=SafetyResponse.Status.PENDING, citizen__isnull=False
        ).values_list("citizen_id", flat=True)
    ]


def safety_check_close(*, check: SafetyCheck, now: datetime.datetime | None = None) -> int:
    """The deadline: whoever has not answered is "no response"; with the check's option, each
    gets a welfare case. Returns the cases opened. Closing twice does nothing more."""
    now = now or timezone.now()
    with transaction.atomic():
        check = SafetyCheck.objects.select_for_update().get(id=check.id)
        if check.status == SafetyCheck.Status.CLOSED:
            return 0
        SafetyResponse.objects.filter(
            safety_check=check, status=SafetyResponse.Status.PENDING
        ).update(status=SafetyResponse.Status.NO_RESPONSE)
        check.status, check.closed_at = SafetyCheck.Status.CLOSED, now
        check.save(update_fields=["status", "closed_at", "updated_at"])
        if not check.open_case_on_no_response:
            return 0
        return _no_response_cases_open(check)


def _no_response_cases_open(check: SafetyCheck) -> int:
    post = _post_for(check.country_id)
    summary = _("No answer to safety check %(code)s") % {"code": check.code}
    known_regions = {region.code for region in regions_of_country(country_code=check.country_id)}
    # An erased citizen's answer is counted, but there is nobody to open a case for.
    rows = SafetyResponse.objects.filter(
        safety_check=check, status=SafetyResponse.Status.NO_RESPONSE, citizen__isnull=False
    ).values_list("citizen_id", "region_code")
    cases = [
        Case(
            kind=Case.Kind.WELFARE,
            priority=Case.Priority.NORMAL,
            source=Case.Source.NO_RESPONSE,
            post=post,
            country_id=check.country_id,
            region_id=region_code if region_code in known_regions else None,
            citizen_id=citizen_id,
            safety_check=check,
            summary=summary,
        )
        for citizen_id, region_code in rows
    ]
    Case.objects.bulk_create(cases, batch_size=500, ignore_conflicts=True)
    # The cases just created are those of this check with no timeline yet.
    opened = list(
        Case.objects.filter(safety_check=check, source=Case.Source.NO_RESPONSE)
        .exclude(events__kind=CaseEvent.Kind.OPENED)
        .values_list("id", flat=True)
    )
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=case_id, kind=CaseEvent.Kind.OPENED) for case_id in opened],
        batch_size=500,
    )
    case_of_citizen = dict(Case.objects.filter(id__in=opened).values_list("citizen_id", "id"))
    link = Case.household_members.through
    link.objects.bulk_create(
        [
            link(case_id=case_of_citizen[citizen_id], householdmember_id=member_id)
            for member_id, citizen_id in HouseholdMember.objects.filter(
                citizen_id__in=list(case_of_citizen)
            ).values_list("id", "citizen_id")
        ],
        batch_size=500,
    )
    return len(opened)


def safety_checks_tick(*, now: datetime.datetime | None = None) -> TickResult:
    """The beat task's work: remind those who have not answered, then write to their
    emergency contacts, then close checks whose deadline has come. Each step is stamped on
    the check under a row lock, so a second run in the same minute does nothing."""
    now = now or timezone.now()
    reminded = escalated = closed = opened = 0
    for check_id in SafetyCheck.objects.filter(status=SafetyCheck.Status.OPEN).values_list(
        "id", flat=True
    ):
        with transaction.atomic():
            check = SafetyCheck.objects.select_for_update().get(id=check_id)
            if check.status != SafetyCheck.Status.OPEN:
                continue
            if check.deadline <= now:
                opened += safety_check_close(check=check, now=now)
                closed += 1
                continue
            if check.reminder_minutes is None:
                continue
            interval = datetime.timedelta(minutes=check.reminder_minutes)
            if check.reminded_at is None and now >= check.created_at + interval:
                pending = _pending_ids(check)
                if pending:
                    check.reminder_alert = message_alert_create(
                        country_code=check.country_id,
                        citizen_ids=pending,
                        texts=_reminder_texts(check),
                        send_email=check.send_email,
                        send_sms=check.send_sms,
                        response_url_template=response_url_template(),
                    )
                check.reminded_at = now
                check.save(update_fields=["reminded_at", "reminder_alert", "updated_at"])
                reminded += len(pending)
            elif (
                check.escalate_to_emergency_contact
                and check.reminded_at is not None
                and check.escalated_at is None
                and now >= check.reminded_at + interval
            ):
                pending = _pending_ids(check)
                if pending:
                    message_alert_create(
                        country_code=check.country_id,
                        citizen_ids=pending,
                        texts=_emergency_texts(check),
                        audience=Alert.Audience.EMERGENCY_CONTACTS,
                    )
                check.escalated_at = now
                check.save(update_fields=["escalated_at", "updated_at"])
                escalated += len(pending)
    return TickResult(reminded=reminded, escalated=escalated, closed=closed, cases_opened=opened)


# --- Cases ------------------------------------------------------------------------------------


def _post_for(country_code: str) -> Post:
    post = posts_covering_country(country_code=country_code).first()
    if post is None:
        raise ValidationFailed(_("No post covers this country."), field="country")
    return post


def _case_create(
    *,
    kind: str,
    priority: int,
    source: str,
    country_code: str,
    region_code: str | None,
    citizen_id: uuid.UUID | str | None,
    summary: str,
    opened_by: User | None,
    safety_check: SafetyCheck | None = None,
    household_member_ids: Collection[uuid.UUID | str] = (),
    text: str = "",
) -> Case:
    known = {region.code for region in regions_of_country(country_code=country_code)}
    case = Case.objects.create(
        kind=kind,
        priority=priority,
        source=source,
        post=_post_for(country_code),
        country_id=country_code,
        region_id=region_code if region_code in known else None,
        citizen_id=citizen_id,
        safety_check=safety_check,
        summary=summary[:300],
        opened_by=opened_by,
    )
    if household_member_ids and citizen_id is not None:
        members = HouseholdMember.objects.filter(
            id__in=list(household_member_ids), citizen_id=citizen_id
        )
        case.household_members.set(members)
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.OPENED, actor=opened_by, text=text)
    return case


def case_open(
    *,
    opened_by: User,
    kind: str,
    country_code: str,
    summary: str,
    priority: int = Case.Priority.NORMAL,
    region_code: str | None = None,
    citizen_id: uuid.UUID | str | None = None,
    household_member_ids: Collection[uuid.UUID | str] = (),
    text: str = "",
) -> Case:
    """Consular staff (officers, post administrators) open a case (a walk-in, a call, a family
    asking about a relative) in a country their posts cover; it goes to the post covering that
    country."""
    country_code = country_code.upper()
    require_role(
        user=opened_by,
        roles=REGISTER_ROLES,
        country_code=country_code,
        message=_("You cannot open a case in this country."),
    )
    codes = country_codes_of_user(user=opened_by, roles=REGISTER_ROLES)
    # A citizen registered only elsewhere does not exist for this post: naming one would
    # put another post's register on this post's case.
    if (
        citizen_id is not None
        and not citizens_for_staff(country_codes=codes).filter(id=citizen_id).exists()
    ):
        raise NotFound(_("No such citizen."), field="citizen")
    if kind not in Case.Kind.values:
        raise ValidationFailed(_("Unknown kind."), field="kind")
    with transaction.atomic():
        return _case_create(
            kind=kind,
            priority=priority,
            source=Case.Source.STAFF,
            country_code=country_code,
            region_code=region_code,
            citizen_id=citizen_id,
            summary=summary,
            opened_by=opened_by,
            household_member_ids=household_member_ids,
            text=text,
        )


def case_open_by_citizen(
    *,
    citizen_id: uuid.UUID | str,
    country_code: str,
    region_code: str | None,
    help_kind: str,
    text: str,
) -> Case:
    """A citizen asks for help themselves (from their page)."""
    kind, priority = HELP_CASE_KIND[help_kind]
    with transaction.atomic():
        return _case_create(
            kind=kind,
            priority=priority,
            source=Case.Source.CITIZEN,
            country_code=country_code.upper(),
            region_code=region_code,
            citizen_id=citizen_id,
            summary=_("Asked for help"),
            opened_by=None,
            text=text[:2000],
        )


def _locked_case_for(*, case: Case, actor: User) -> Case:
    """The case, locked, once the actor is known to hold a register role at its post: a case
    names a citizen, which advisory editors and approvers do not see. Another post's case does
    not exist for the actor."""
    locked = (
        Case.objects.select_for_update()
        .filter(id=case.id, post__in=posts_of_user(user=actor))
        .first()
    )
    if locked is None:
        raise NotFound(_("No such case."))
    require_role(
        user=actor,
        roles=REGISTER_ROLES,
        post_id=locked.post_id,
        message=_("Only the consular staff of the case's post can work on it."),
    )
    return locked


def case_status_change(*, case: Case, status: str, actor: User, text: str = "") -> Case:
    """Move a case along its allowed statuses, with a line on its timeline."""
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        if status not in TRANSITIONS.get(case.status, set()):
            raise Conflict(
                _("A %(old)s case cannot become %(new)s.")
                % {"old": case.get_status_display(), "new": status},
                field="status",
            )
        old = case.status
        now = timezone.now()
        case.status = status
        if status == Case.Status.RESOLVED:
            case.resolved_at = now
        if status == Case.Status.CLOSED:
            case.closed_at = now
        case.save(update_fields=["status", "resolved_at", "closed_at", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.STATUS,
            actor=actor,
            text=text,
            data={"from": old, "to": status},
        )
    return case


def case_assign(*, case: Case, assignee: User | None, actor: User) -> Case:
    """Give the case to a consular staff member of its post (or to nobody)."""
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        if (
            assignee is not None
            and not posts_of_user(user=assignee, roles=REGISTER_ROLES)
            .filter(id=case.post_id)
            .exists()
        ):
            raise ValidationFailed(
                _("This person does not work at the case's post."), field="assignee"
            )
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ASSIGNED,
            actor=actor,
            data={"assignee": str(assignee.id) if assignee else None},
            text=assignee.get_username() if assignee else "",
        )
    return case


def cases_assign(*, case_ids: Collection[uuid.UUID | str], assignee: User, actor: User) -> int:
    """Bulk assignment from the queue: the cases of the actor's posts among the ids."""
    count = 0
    cases = Case.objects.filter(
        id__in=list(case_ids), post__in=posts_of_user(user=actor, roles=REGISTER_ROLES)
    )
    for case in cases:
        case_assign(case=case, assignee=assignee, actor=actor)
        count += 1
    return count


def case_note_add(
    *, case: Case, actor: User, text: str, kind: str = CaseEvent.Kind.NOTE
) -> CaseEvent:
    """A note or a call logged on the timeline."""
    if kind not in (CaseEvent.Kind.NOTE, CaseEvent.Kind.CALL):
        raise ValidationFailed(_("A note or a call."), field="kind")
    if not text.strip():
        raise ValidationFailed(_("Write something."), field="text")
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        return CaseEvent.objects.create(case=case, kind=kind, actor=actor, text=text.strip())


def case_message_send(
    *, case: Case, actor: User, subject: str, text: str, sms: str = ""
) -> CaseEvent:
    """Write to the case's citizen through the alerts' ledger; the timeline links the alert."""
    if not text.strip():
        raise ValidationFailed(_("Write the message."), field="text")
    with transaction.atomic():
        case = _locked_case_for(case=case, actor=actor)
        if case.citizen_id is None:
            raise Conflict(_("This case has no citizen to write to."), field="citizen")
        message = MessageTexts(
            subject=subject.strip() or _("A message from your consulate"),
            text=text.strip(),
            sms=(sms or text).strip()[:480],
        )
        alert = message_alert_create(
            country_code=case.country_id,
            citizen_ids=[case.citizen_id],
            texts={"en": message, "fr": message},
            created_by=actor,
        )
        return CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.MESSAGE,
            actor=actor,
            text=text.strip(),
            data={"alert": str(alert.id)},
        )


# --- Erasure ----------------------------------------------------------------------------------


def citizens_personal_data_erase(citizen_ids: list[uuid.UUID]) -> dict[str, int]:
    """The cases' eraser (see `core.personal_data`), run before the citizen rows go.

    - Safety answers stay, so a check's counts (status, region, people) do not change, but lose
      the link to the person and what they wrote (where they were, the details).
    - Cases stay as the post's record of the help it gave, without the link to the person or
      their household members; the summary and every text of the timeline (but assignments,
      which name staff) become the erased marker, and a line on the timeline says why.
    """
    marker = personal_data.erased_marker()
    responses = SafetyResponse.objects.filter(citizen_id__in=citizen_ids).update(
        citizen=None, location="", details=""
    )
    case_ids = list(Case.objects.filter(citizen_id__in=citizen_ids).values_list("id", flat=True))
    members, _detail = Case.household_members.through.objects.filter(
        householdmember__citizen_id__in=citizen_ids
    ).delete()
    # rows_update: each row's marker is encrypted bound to that row.
    events = rows_update(
        CaseEvent.objects.filter(case_id__in=case_ids)
        .exclude(kind=CaseEvent.Kind.ASSIGNED)
        .exclude(text=""),
        text=marker,
    )
    cases = rows_update(
        Case.objects.filter(id__in=case_ids),
        citizen=None,
        summary=marker,
        updated_at=timezone.now(),
    )
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=case_id, kind=CaseEvent.Kind.ERASED) for case_id in case_ids],
        batch_size=500,
    )
    return {
        "cases.safetyresponse": responses,
        "cases.case": cases,
        "cases.case_household_members": members,
        "cases.caseevent": events,
    }
