"""Staff messages to chosen regions: written by an officer, checked on a preview of who it
reaches, test-sent to its author, and sent only once a second staff member approved it.

The message is an Alert of kind `staff_message` with its own texts (like the safety checks'
messages): draft -> awaiting_approval -> fanning_out -> sending -> done, or back to draft when
rejected, or cancelled. Only approval puts it on the fan-out's path; the database refuses a
sent staff message without an approver other than its author."""

import dataclasses
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.permissions import require_role
from core import sms
from core.audit import Action, audit_record
from core.channels import SendError
from core.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from notifications import queue
from notifications.alerts import LANGUAGES, MessageTexts
from notifications.channels import get_channel
from notifications.models import Alert, Channel
from notifications.rendering import MessageRenderer
from regions.selectors import region_codes_of_country
from registrations.selectors import CitizenContact

# Officers write and send the post's messages; an approver or another officer of a post
# covering the country is the second person.
AUTHOR_ROLES = (Membership.Role.OFFICER, Membership.Role.ADMIN)
APPROVER_ROLES = (Membership.Role.OFFICER, Membership.Role.APPROVER, Membership.Role.ADMIN)
# Beyond three parts a text message costs more than it helps: send the detail by email.
SMS_MAX_SEGMENTS = 3
SUBJECT_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10_000
EDITABLE_STATES = (Alert.State.DRAFT,)


def _clean_regions(*, country_code: str, region_codes: Collection[str]) -> list[str]:
    codes = sorted({code.strip().upper() for code in region_codes if code.strip()})
    unknown = set(codes) - region_codes_of_country(country_code=country_code)
    if unknown:
        raise ValidationFailed(
            _("These regions are not in the country: %(codes)s.")
            % {"codes": ", ".join(sorted(unknown))},
            field="region_codes",
        )
    return codes


def sms_segments(text: str) -> int:
    """Parts the text takes (GSM-7, or UCS-2 as soon as one character needs it)."""
    return sms.segments(" ".join(text.split()))


def _clean_texts(
    *, texts: Mapping[str, MessageTexts], send_email: bool, send_sms: bool
) -> dict[str, dict[str, str]]:
    """Both languages, each with the parts its chosen channels need; a refusal names the
    field (`subject_fr`, `sms_en`...)."""
    if not (send_email or send_sms):
        raise ValidationFailed(_("Choose at least one channel."), field="send_email")
    cleaned: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        given = texts.get(language) or MessageTexts(subject="", text="", sms="")
        subject, text, sms_text = given.subject.strip(), given.text.strip(), given.sms.strip()
        if send_email and not subject:
            raise ValidationFailed(_("Write the email's subject."), field=f"subject_{language}")
        if len(subject) > SUBJECT_MAX_LENGTH:
            raise ValidationFailed(
                _("Keep the subject under %(n)d characters.") % {"n": SUBJECT_MAX_LENGTH},
                field=f"subject_{language}",
            )
        if send_email and not text:
            raise ValidationFailed(_("Write the email's text."), field=f"text_{language}")
        if len(text) > TEXT_MAX_LENGTH:
            raise ValidationFailed(
                _("Keep the text under %(n)d characters.") % {"n": TEXT_MAX_LENGTH},
                field=f"text_{language}",
            )
        if send_sms and not sms_text:
            raise ValidationFailed(_("Write the text message."), field=f"sms_{language}")
        parts = sms_segments(sms_text)
        if parts > SMS_MAX_SEGMENTS:
            raise ValidationFailed(
                _(
                    "The text message takes %(parts)d SMS parts; shorten it to %(max)d at most "
                    "(160 characters a part, 70 with accents or symbols outside GSM-7)."
                )
                % {"parts": parts, "max": SMS_MAX_SEGMENTS},
                field=f"sms_{language}",
            )
        cleaned[language] = {"subject": subject, "text": text, "sms": sms_text}
    return cleaned


def _locked(alert: Alert) -> Alert:
    """The staff message, locked; any other alert (an admin action may select a level
    change) is refused by name rather than failing."""
    locked = (
        Alert.objects.select_for_update().filter(id=alert.id, kind=Alert.Kind.STAFF_MESSAGE).first()
    )
    if locked is None:
        raise NotFound(_("Not a staff message."), field="kind")
    return locked


def _audit(*, user: User, alert: Alert, action: str, step: str) -> None:
    audit_record(
        actor=user,
        action=action,
        obj=alert,
        detail={"step": step, "country": alert.country_id, "state": alert.state},
    )


def staff_message_create(
    *,
    author: User,
    country_code: str,
    region_codes: Collection[str],
    texts: Mapping[str, MessageTexts],
    send_email: bool = True,
    send_sms: bool = True,
) -> Alert:
    """A draft message to the people present in the regions (none named: the whole
    country). Nothing is sent until another staff member approves it."""
    country_code = country_code.strip().upper()
    require_role(
        user=author,
        country_code=country_code,
        roles=AUTHOR_ROLES,
        message=_("Only an officer of a post covering this country can write its messages."),
    )
    regions = _clean_regions(country_code=country_code, region_codes=region_codes)
    cleaned = _clean_texts(texts=texts, send_email=send_email, send_sms=send_sms)
    with transaction.atomic():
        alert = Alert.objects.create(
            kind=Alert.Kind.STAFF_MESSAGE,
            state=Alert.State.DRAFT,
            country_id=country_code,
            region_codes=regions,
            texts=cleaned,
            send_email=send_email,
            send_sms=send_sms,
            created_by=author,
        )
        _audit(user=author, alert=alert, action=Action.CREATE, step="create")
    return alert


def staff_message_update(
    *,
    alert: Alert,
    editor: User,
    region_codes: Collection[str] | None = None,
    texts: Mapping[str, MessageTexts] | None = None,
    send_email: bool | None = None,
    send_sms: bool | None = None,
) -> Alert:
    """Change a draft; what is not given stays as it was. A submitted message is changed by
    rejecting it back to draft first, so an approver never approves a moving text."""
    with transaction.atomic():
        alert = _locked(alert)
        require_role(
            user=editor,
            country_code=alert.country_id,
            roles=AUTHOR_ROLES,
            message=_("Only an officer of a post covering this country can write its messages."),
        )
        if alert.state not in EDITABLE_STATES:
            raise Conflict(_("Only a draft can be changed."), field="state")
        if region_codes is not None:
            alert.region_codes = _clean_regions(
                country_code=alert.country_id, region_codes=region_codes
            )
        alert.send_email = alert.send_email if send_email is None else send_email
        alert.send_sms = alert.send_sms if send_sms is None else send_sms
        current = {
            language: MessageTexts(**alert.texts.get(language, {}))
            if alert.texts.get(language)
            else MessageTexts(subject="", text="", sms="")
            for language in LANGUAGES
        }
        alert.texts = _clean_texts(
            texts={**current, **(texts or {})},
            send_email=alert.send_email,
            send_sms=alert.send_sms,
        )
        alert.save(update_fields=["region_codes", "send_email", "send_sms", "texts", "updated_at"])
        _audit(user=editor, alert=alert, action=Action.CHANGE, step="update")
    return alert


def staff_message_submit(*, alert: Alert, submitted_by: User) -> Alert:
    """Hand a draft to a second person for approval."""
    with transaction.atomic():
        alert = _locked(alert)
        require_role(
            user=submitted_by,
            country_code=alert.country_id,
            roles=AUTHOR_ROLES,
            message=_("Only an officer of a post covering this country can write its messages."),
        )
        if alert.state != Alert.State.DRAFT:
            raise Conflict(_("Only a draft can be submitted."), field="state")
        alert.state, alert.submitted_at = Alert.State.AWAITING_APPROVAL, timezone.now()
        alert.rejection_reason = ""
        alert.save(update_fields=["state", "submitted_at", "rejection_reason", "updated_at"])
        _audit(user=submitted_by, alert=alert, action=Action.CHANGE, step="submit")
    return alert


def staff_message_approve(*, alert: Alert, approver: User) -> Alert:
    """Four eyes: a staff member of a post covering the country, who did not write the
    message, lets it go. It is fanned out like any alert once the approval is committed."""
    with transaction.atomic():
        alert = _locked(alert)
        require_role(
            user=approver,
            country_code=alert.country_id,
            roles=APPROVER_ROLES,
            message=_("Only staff of a post covering this country can approve its messages."),
        )
        if alert.created_by_id == approver.id:
            raise PermissionDenied(
                _("You wrote this message: another staff member must approve it."),
                code="four_eyes",
            )
        if alert.state != Alert.State.AWAITING_APPROVAL:
            raise Conflict(_("Only a submitted message can be approved."), field="state")
        alert.state, alert.approved_by, alert.approved_at = (
            Alert.State.FANNING_OUT,
            approver,
            timezone.now(),
        )
        alert.save(update_fields=["state", "approved_by", "approved_at", "updated_at"])
        _audit(user=approver, alert=alert, action=Action.CHANGE, step="approve")
        queue.fan_out_after_commit(alert_id=str(alert.id))
    return alert


def staff_message_reject(*, alert: Alert, rejected_by: User, reason: str) -> Alert:
    """Send a submitted message back to draft, with the reason for its author."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the message is rejected."), field="reason")
    with transaction.atomic():
        alert = _locked(alert)
        require_role(
            user=rejected_by,
            country_code=alert.country_id,
            roles=APPROVER_ROLES,
            message=_("Only staff of a post covering this country can approve its messages."),
        )
        if alert.state != Alert.State.AWAITING_APPROVAL:
            raise Conflict(_("Only a submitted message can be rejected."), field="state")
        alert.state, alert.rejection_reason = Alert.State.DRAFT, reason[:2000]
        alert.save(update_fields=["state", "rejection_reason", "updated_at"])
        _audit(user=rejected_by, alert=alert, action=Action.CHANGE, step="reject")
    return alert


@dataclass(frozen=True)
class TestSendResult:
    to: str
    sent: int
    # The staff account has no phone: the text messages went to the email address instead.
    sms_by_email: bool
    note: str


def staff_message_test_send(*, alert: Alert, user: User) -> TestSendResult:
    """Send the message as citizens would get it, in both languages and on each chosen
    channel, to the requesting staff member only, through the real channels (so it shows in
    the development outbox). No Delivery row is written: the ledger is for citizens.

    Staff accounts have no phone number, so the text messages are emailed too, marked as such.
    """
    require_role(
        user=user,
        country_code=alert.country_id,
        roles=APPROVER_ROLES,
        message=_("Only staff of a post covering this country can act on its messages."),
    )
    if alert.kind != Alert.Kind.STAFF_MESSAGE:
        raise Conflict(_("Only staff messages can be test-sent."), field="kind")
    if not user.email:
        raise ValidationFailed(_("Your account has no email address."), field="email")
    renderer = MessageRenderer(alert)
    channel = get_channel(Channel.EMAIL)
    sent = 0
    try:
        channel.open()
        for language in LANGUAGES:
            contact = CitizenContact(
                citizen_id=uuid.uuid4(),
                given_name=user.first_name or user.get_username(),
                language=language,
                email=user.email,
                phone="",
                link=settings.SITE_URL,
            )
            email = renderer.message(
                delivery_id=0, channel=Channel.EMAIL, region_code="", contact=contact
            )
            # No unsubscribe link: the recipient is the author, not a citizen.
            headers = {"X-Consular-Test": str(alert.id)}
            outgoing = []
            if alert.send_email:
                outgoing.append(
                    dataclasses.replace(
                        email, subject=f"[TEST {language}] {email.subject}", headers=headers
                    )
                )
            if alert.send_sms:
                text = renderer.message(
                    delivery_id=0, channel=Channel.SMS, region_code="", contact=contact
                ).text
                subject = _("[TEST %(language)s] Text message (%(parts)d SMS parts)") % {
                    "language": language,
                    "parts": sms_segments(text),
                }
                outgoing.append(
                    dataclasses.replace(email, subject=subject, text=text, html="", headers=headers)
                )
            for message in outgoing:
                channel.send(message)
                sent += 1
    except SendError as error:
        raise Conflict(
            _("The test message could not be sent: %(reason)s") % {"reason": error.reason}
        ) from error
    finally:
        channel.close()
    with transaction.atomic():
        _audit(user=user, alert=alert, action=Action.CHANGE, step="test_send")
    note = (
        _("Your account has no phone number: the text messages were sent to your email.")
        if alert.send_sms
        else ""
    )
    return TestSendResult(to=user.email, sent=sent, sms_by_email=alert.send_sms, note=note)
