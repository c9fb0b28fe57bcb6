"""Safety checks: the question to everyone present in some regions, their answers (by link or
by text message), the reminder, the word to their emergency contacts, and the close at the
deadline that may open a welfare case for each citizen who did not answer.

A check follows the rule of every message to a region: written as a draft, its reach
previewed, submitted, and started only when a second person approves it (draft ->
awaiting_approval -> open -> closed, or back to draft when rejected). A post that opted into
urgent mode lets its officer start a check alone; that start is audited and the check says so.

Messages to citizens go through the alerts' ledger (`message_alert_create`), never straight to
a channel: every question, reminder and clarification is a Delivery row with its status."""

import dataclasses
import datetime
import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require_role
from accounts.selectors import REGISTER_ROLES, post_covering_country, urgent_safety_check_post
from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.selectors import CHECK_APPROVER_ROLES
from cases.services.cases import HELP_CASE_KIND, _case_create, _post_for
from cases.services.texts import languages
from core.audit import Action, audit_record
from core.crypto import row_key_sql
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from core.ratelimit import hit
from notifications.alerts import MessageTexts, message_alert_create
from notifications.inbound import InboundText
from notifications.models import Alert
from notifications.selectors import alert_exists
from regions.selectors import regions_of_country
from registrations.selectors import (
    citizens_present_with_household,
    household_member_ids_of_citizen,
    household_member_ids_of_citizens,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Accepted whatever the language the question was asked in, as `sms_keyword` leaves them
# (capitals, no accents): the English texts ask for SAFE or HELP, the French ones for OK or AIDE.
SAFE_WORDS = {"SAFE", "OK", "SECURE", "SECURITE"}
HELP_WORDS = {"HELP", "AIDE", "SOS"}
CLARIFICATIONS_PER_HOUR = 3
# The post's consular staff write and submit checks; a second person of a post covering the
# country (CHECK_APPROVER_ROLES: another officer, an approver, a post administrator) approves.
CHECK_AUTHOR_ROLES = REGISTER_ROLES


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


def response_url_template() -> str:
    path = reverse("cases:respond", kwargs={"token": "TOKEN"})
    return settings.SITE_URL + path.replace("TOKEN", "{token}")


def _question_texts(check: SafetyCheck) -> dict[str, MessageTexts]:
    texts = {}
    deadline = timezone.localtime(check.deadline).strftime("%Y-%m-%d %H:%M")
    for language in languages():
        question = check.question_fr if language == "fr" else check.question_en
        with translation.override(language):
            # Translators: SAFE and HELP are reply keywords: translate them only into words
            # the service accepts as well (in French, OK and AIDE).
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
    post = post_covering_country(country_code=check.country_id)
    phone = post.emergency_phone if post else ""
    for language in languages():
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
    recipients = citizens_present_with_household(
        country_code=check.country_id,
        region_codes=check.region_codes,
        on_date=timezone.localdate(),
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


@dataclass(frozen=True)
class CheckFields:
    """What the author of a check decides: whom to ask (the regions), what, by when, and how
    to follow up."""

    region_codes: Sequence[str]
    question_en: str
    deadline: datetime.datetime
    question_fr: str = ""
    send_email: bool = True
    send_sms: bool = True
    reminder_minutes: int | None = 120
    escalate_to_emergency_contact: bool = True
    open_case_on_no_response: bool = False
    alert_id: uuid.UUID | str | None = None


def _cleaned(*, country_code: str, fields: CheckFields) -> CheckFields:
    """The fields as they are saved; a refusal names the field."""
    known = {region.code for region in regions_of_country(country_code=country_code)}
    region_codes = sorted({code.strip().upper() for code in fields.region_codes if code.strip()})
    if not region_codes or not set(region_codes) <= known:
        raise ValidationFailed(_("Choose regions of the country."), field="region_codes")
    if fields.deadline <= timezone.now():
        raise ValidationFailed(_("The deadline must be in the future."), field="deadline")
    if not (fields.send_email or fields.send_sms):
        raise ValidationFailed(_("Choose at least one channel."), field="send_email")
    if not fields.question_en.strip():
        raise ValidationFailed(_("Write the question."), field="question_en")
    if fields.reminder_minutes is not None and fields.reminder_minutes < 1:
        raise ValidationFailed(
            _("Remind after one minute at least, or not at all."), field="reminder_minutes"
        )
    if fields.alert_id is not None and not alert_exists(
        alert_id=fields.alert_id, country_code=country_code
    ):
        raise ValidationFailed(_("No such alert for this country."), field="alert")
    return dataclasses.replace(
        fields,
        region_codes=region_codes,
        question_en=fields.question_en.strip(),
        question_fr=fields.question_fr.strip() or fields.question_en.strip(),
    )


def _require_author(*, user: User, country_code: str) -> None:
    require_role(
        user=user,
        roles=CHECK_AUTHOR_ROLES,
        country_code=country_code,
        message=_("You cannot start a safety check in this country."),
    )


def _require_approver(*, user: User, country_code: str) -> None:
    require_role(
        user=user,
        roles=CHECK_APPROVER_ROLES,
        country_code=country_code,
        message=_("Only staff of a post covering this country can approve its safety checks."),
    )


def _locked(check: SafetyCheck) -> SafetyCheck:
    return SafetyCheck.objects.select_for_update().get(id=check.id)


def _audit(*, user: User, check: SafetyCheck, action: str, step: str, **detail: str) -> None:
    audit_record(
        actor=user,
        action=action,
        obj=check,
        detail={"step": step, "country": check.country_id, "status": check.status, **detail},
    )


def safety_check_create(*, author: User, country_code: str, fields: CheckFields) -> SafetyCheck:
    """A draft check: nobody is asked until a second person approves it (or its author starts
    it alone under their post's urgent mode)."""
    country_code = country_code.strip().upper()
    _require_author(user=author, country_code=country_code)
    cleaned = _cleaned(country_code=country_code, fields=fields)
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    check = SafetyCheck.objects.create(
                        code=_new_code(),
                        status=SafetyCheck.Status.DRAFT,
                        country_id=country_code,
                        region_codes=list(cleaned.region_codes),
                        alert_id=cleaned.alert_id,
                        question_en=cleaned.question_en,
                        question_fr=cleaned.question_fr,
                        deadline=cleaned.deadline,
                        send_email=cleaned.send_email,
                        send_sms=cleaned.send_sms,
                        reminder_minutes=cleaned.reminder_minutes,
                        escalate_to_emergency_contact=cleaned.escalate_to_emergency_contact,
                        open_case_on_no_response=cleaned.open_case_on_no_response,
                        created_by=author,
                    )
                break
            except IntegrityError:
                continue
        else:
            raise Conflict(_("Could not find a free reference code; try again."))
        _audit(user=author, check=check, action=Action.CREATE, step="create")
    return check


def safety_check_update(*, check: SafetyCheck, editor: User, fields: CheckFields) -> SafetyCheck:
    """Rewrite a draft. A submitted check goes back to draft (rejected) first, so an approver
    never approves a moving target."""
    with transaction.atomic():
        check = _locked(check)
        _require_author(user=editor, country_code=check.country_id)
        if check.status != SafetyCheck.Status.DRAFT:
            raise Conflict(_("Only a draft can be changed."), field="status")
        cleaned = _cleaned(country_code=check.country_id, fields=fields)
        check.region_codes = list(cleaned.region_codes)
        check.alert_id = cleaned.alert_id
        check.question_en, check.question_fr = cleaned.question_en, cleaned.question_fr
        check.deadline = cleaned.deadline
        check.send_email, check.send_sms = cleaned.send_email, cleaned.send_sms
        check.reminder_minutes = cleaned.reminder_minutes
        check.escalate_to_emergency_contact = cleaned.escalate_to_emergency_contact
        check.open_case_on_no_response = cleaned.open_case_on_no_response
        check.save()
        _audit(user=editor, check=check, action=Action.CHANGE, step="update")
    return check


def safety_check_submit(*, check: SafetyCheck, submitted_by: User) -> SafetyCheck:
    """Hand a draft to a second person of a post covering the country."""
    with transaction.atomic():
        check = _locked(check)
        _require_author(user=submitted_by, country_code=check.country_id)
        if check.status != SafetyCheck.Status.DRAFT:
            raise Conflict(_("Only a draft can be submitted."), field="status")
        check.status, check.submitted_at = SafetyCheck.Status.AWAITING_APPROVAL, timezone.now()
        check.rejection_reason = ""
        check.save(update_fields=["status", "submitted_at", "rejection_reason", "updated_at"])
        _audit(user=submitted_by, check=check, action=Action.CHANGE, step="submit")
    return check


def safety_check_approve(*, check: SafetyCheck, approver: User) -> SafetyCheck:
    """Four eyes: staff of a post covering the country (officer, approver or post
    administrator), who did not write the check, starts it. Under the row lock, so two
    approvers at once start it once: the second is told it is no longer awaiting approval."""
    with transaction.atomic():
        check = _locked(check)
        _require_approver(user=approver, country_code=check.country_id)
        if check.created_by_id == approver.id:
            raise PermissionDenied(
                _("You wrote this safety check: another staff member must approve it."),
                field="approved_by",
                code="four_eyes",
            )
        if check.status != SafetyCheck.Status.AWAITING_APPROVAL:
            raise Conflict(_("Only a submitted safety check can be approved."), field="status")
        check.approved_by, check.approved_at = approver, timezone.now()
        _start(check, started_by=approver)
        _audit(user=approver, check=check, action=Action.CHANGE, step="approve")
    return check


def safety_check_reject(*, check: SafetyCheck, rejected_by: User, reason: str) -> SafetyCheck:
    """Send a submitted check back to draft, with the reason for its author."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the safety check is rejected."), field="reason")
    with transaction.atomic():
        check = _locked(check)
        _require_approver(user=rejected_by, country_code=check.country_id)
        if check.status != SafetyCheck.Status.AWAITING_APPROVAL:
            raise Conflict(_("Only a submitted safety check can be rejected."), field="status")
        check.status, check.rejection_reason = SafetyCheck.Status.DRAFT, reason[:2000]
        check.save(update_fields=["status", "rejection_reason", "updated_at"])
        _audit(user=rejected_by, check=check, action=Action.CHANGE, step="reject")
    return check


def safety_check_start_alone(*, check: SafetyCheck, started_by: User) -> SafetyCheck:
    """Urgent mode: the author starts their own draft (or submitted) check without a second
    person, which only a post covering the country that opted into the mode allows. The start
    is audited under that post, and the check says it was started alone."""
    with transaction.atomic():
        check = _locked(check)
        _require_author(user=started_by, country_code=check.country_id)
        post = urgent_safety_check_post(user=started_by, country_code=check.country_id)
        if post is None:
            raise PermissionDenied(
                _(
                    "Your post has not opted into urgent mode: another staff member must "
                    "approve this safety check."
                ),
                field="started_alone",
                code="four_eyes",
            )
        if check.created_by_id != started_by.id:
            raise PermissionDenied(
                _("Only the author of a safety check can start it alone; approve it instead."),
                field="started_alone",
                code="not_author",
            )
        if check.status not in (SafetyCheck.Status.DRAFT, SafetyCheck.Status.AWAITING_APPROVAL):
            raise Conflict(_("This safety check has started already."), field="status")
        check.started_alone = True
        _start(check, started_by=started_by)
        audit_record(
            actor=started_by,
            action=Action.CHANGE,
            obj=check,
            post_code=post.code,
            detail={
                "step": "start_alone",
                "country": check.country_id,
                "status": check.status,
                "urgent_mode_post": post.code,
            },
        )
    return check


def _start(check: SafetyCheck, *, started_by: User) -> None:
    """Ask everyone present in the regions, on the locked check; each gets a pending response
    row now, so the board counts from the first second."""
    now = timezone.now()
    if check.deadline <= now:
        raise Conflict(
            _("The deadline has passed: send the check back to draft to set a new one."),
            field="deadline",
        )
    check.status, check.started_at = SafetyCheck.Status.OPEN, now
    _insert_responses(check)
    check.question_alert = message_alert_create(
        country_code=check.country_id,
        region_codes=check.region_codes,
        texts=_question_texts(check),
        created_by=started_by,
        send_email=check.send_email,
        send_sms=check.send_sms,
        response_url_template=response_url_template(),
    )
    check.save()


def _help_case_open(
    *, response: SafetyResponse, check: SafetyCheck, citizen_id: uuid.UUID | str
) -> Case:
    """The open case of a "needs help" answer: opened once, updated by later answers."""
    kind, priority = HELP_CASE_KIND[response.help_kind]
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
                opened_by=None,
                # Whoever the citizen registered with them was asked through them.
                household_member_ids=household_member_ids_of_citizen(citizen_id=citizen_id),
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
    for language in languages():
        with translation.override(language):
            # Translators: the reply keywords as in "Reply SAFE %(code)s or HELP %(code)s.".
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


def sms_reply_answer(*, text: InboundText) -> str:
    """A text from a citizen that no other app's word claimed (notifications' router asks
    this handler last): SAFE or HELP (OK or AIDE as the French texts ask; every word in every
    language, whatever its capitals and accents), with the check's code, records an answer;
    anything else, from someone with an open check, gets a short clarification. Returns what
    was done.

    Once per message: the router claims it in the transaction this runs in, so the same event
    twice (relayed again, or routed twice) records nothing and sends nothing more."""
    if text.citizen_id is None:
        return "unknown_sender"
    words = text.words
    keyword = next((w for w in words if w in SAFE_WORDS or w in HELP_WORDS), None)
    # Everyone sharing this verified number (a couple, say) may be the one answering.
    open_responses = _open_checks_of(text.citizen_ids)
    if not open_responses:
        return "no_open_check"
    named = [r for r in open_responses if r.safety_check.code in words]
    if keyword is None or (len({r.safety_check_id for r in open_responses}) > 1 and not named):
        # A chatty or looping sender must not turn us into a text-message pump.
        if not hit(
            key=f"cases-clarify:{text.citizen_id}",
            limit=CLARIFICATIONS_PER_HOUR,
            window_seconds=3600,
        ):
            return "clarification_limited"
        latest = open_responses[0]
        _clarify(
            citizen_id=str(text.citizen_id),
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
        answer=Answer(status=status, via=SafetyResponse.Via.SMS, details=text.body[:500]),
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
            for member_id, citizen_id in household_member_ids_of_citizens(
                citizen_ids=list(case_of_citizen)
            )
        ],
        batch_size=500,
    )
    return len(opened)


def _reminder_due(check: SafetyCheck, now: datetime.datetime) -> bool:
    return (
        check.reminder_minutes is not None
        and check.reminded_at is None
        and check.started_at is not None
        and now >= check.started_at + datetime.timedelta(minutes=check.reminder_minutes)
    )


def _escalation_due(check: SafetyCheck, now: datetime.datetime) -> bool:
    return (
        check.reminder_minutes is not None
        and check.escalate_to_emergency_contact
        and check.reminded_at is not None
        and check.escalated_at is None
        and now >= check.reminded_at + datetime.timedelta(minutes=check.reminder_minutes)
    )


def _locked_open_check(check: SafetyCheck) -> SafetyCheck | None:
    locked = SafetyCheck.objects.select_for_update().get(id=check.id)
    return locked if locked.status == SafetyCheck.Status.OPEN else None


def safety_check_remind(*, check: SafetyCheck, now: datetime.datetime | None = None) -> int:
    """Ask again those who have not answered, once the check's reminder interval has passed
    since it started. Stamped on the check under its row lock, so it happens once; returns how
    many citizens were reminded (0 when not due or already done)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_open_check(check)
        if locked is None or not _reminder_due(locked, now):
            return 0
        pending = _pending_ids(locked)
        if pending:
            locked.reminder_alert = message_alert_create(
                country_code=locked.country_id,
                citizen_ids=pending,
                texts=_reminder_texts(locked),
                send_email=locked.send_email,
                send_sms=locked.send_sms,
                response_url_template=response_url_template(),
            )
        locked.reminded_at = now
        locked.save(update_fields=["reminded_at", "reminder_alert", "updated_at"])
    return len(pending)


def safety_check_escalate(*, check: SafetyCheck, now: datetime.datetime | None = None) -> int:
    """Write to the emergency contacts of those still silent one reminder interval after the
    reminder, when the check asks for it. Stamped like the reminder, so it happens once;
    returns how many citizens' contacts were written to."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_open_check(check)
        if locked is None or not _escalation_due(locked, now):
            return 0
        pending = _pending_ids(locked)
        if pending:
            message_alert_create(
                country_code=locked.country_id,
                citizen_ids=pending,
                texts=_emergency_texts(locked),
                audience=Alert.Audience.EMERGENCY_CONTACTS,
            )
        locked.escalated_at = now
        locked.save(update_fields=["escalated_at", "updated_at"])
    return len(pending)


def safety_checks_tick(*, now: datetime.datetime | None = None) -> TickResult:
    """The beat task's work, for each open check: close it once its deadline has come, else
    remind, else escalate (at most one step per check and run). Each step is stamped on the
    check under a row lock, so a second run in the same minute does nothing."""
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
            elif _reminder_due(check, now):
                reminded += safety_check_remind(check=check, now=now)
            elif _escalation_due(check, now):
                escalated += safety_check_escalate(check=check, now=now)
    return TickResult(reminded=reminded, escalated=escalated, closed=closed, cases_opened=opened)
