"""What citizens are told about their seats, through the alerts' ledger (one message per
option and run, to the citizens named, in each one's language, by email and SMS): the offer
with the time, the place, the assembly point, what to bring, the deadline and their own
reference (`offer_reference`), with the link to their page where they accept or decline; and
the word that seats were withdrawn, and why."""

import datetime
import uuid
from collections.abc import Collection

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from departures.models import DepartureOption
from notifications.alerts import MessageTexts, message_alert_create
from notifications.rendering import MANAGE_URL, NAME, REFERENCE, message_reference


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def offer_texts(*, option: DepartureOption, deadline: datetime.datetime) -> dict[str, MessageTexts]:
    operation = option.operation
    texts = {}
    for language in _languages():
        with translation.override(language):
            trip = _("%(kind)s on %(departs)s from %(place)s") % {
                "kind": option.get_kind_display(),
                "departs": _when(option.departs_at),
                "place": option.place,
            }
            answer = _("Accept or decline before %(deadline)s: %(url)s") % {
                "deadline": _when(deadline),
                "url": MANAGE_URL,
            }
            assembly = _("Assembly point: %(point)s.") % {"point": option.assembly_point}
            reply = _("Or text back ACCEPT %(code)s or DECLINE %(code)s.") % {
                "code": option.reply_code
            }
            parts = [
                _("Hello %(name)s,") % {"name": NAME},
                _("Seats are offered to you and the people in your request: %(trip)s.")
                % {"trip": trip},
                assembly,
                operation.text("assembly_instructions", language),
                operation.text("baggage_policy", language),
                answer,
                reply,
                _("Without an answer by then, the seats go to the next people waiting."),
                _(
                    "Your reference: %(reference)s. Once you accept, your boarding pass (this "
                    "reference and its QR code) is on your page: %(url)s. Show it at the "
                    "assembly point."
                )
                % {"reference": REFERENCE, "url": f"{MANAGE_URL}#boarding-pass"},
            ]
            texts[language] = MessageTexts(
                subject=_("A seat for you: %(trip)s") % {"trip": trip},
                text="\n\n".join(part for part in parts if part),
                sms=" ".join(
                    [
                        _("Seats offered: %(trip)s.") % {"trip": trip},
                        _("Ref. %(reference)s.") % {"reference": REFERENCE},
                        assembly,
                        answer,
                        reply,
                    ]
                ),
            )
    return texts


def withdrawal_texts(*, option: DepartureOption, reason: str) -> dict[str, MessageTexts]:
    texts = {}
    for language in _languages():
        with translation.override(language):
            trip = _("%(kind)s on %(departs)s from %(place)s") % {
                "kind": option.get_kind_display(),
                "departs": _when(option.departs_at),
                "place": option.place,
            }
            why = (
                _("The option was cancelled: %(reason)s") % {"reason": option.cancel_reason}
                if reason == "option_cancelled"
                else _("There are fewer seats on it than planned.")
            )
            body = _(
                "Your seats on the %(trip)s are withdrawn. %(why)s You keep your place in the "
                "queue; we will offer you other seats. Your page: %(url)s"
            ) % {"trip": trip, "why": why, "url": MANAGE_URL}
            texts[language] = MessageTexts(
                subject=_("Your seats are withdrawn: %(trip)s") % {"trip": trip},
                text="\n\n".join([_("Hello %(name)s,") % {"name": NAME}, body]),
                sms=body,
            )
    return texts


def offer_reference(*, announcement_id: uuid.UUID, citizen_id: uuid.UUID | None) -> str:
    """The reference the offer's message (`announcement_id`, drawn before the offers are
    written) carries to the citizen: the offer stores it, so the check-in finds the party by
    what their message says. Empty for a party whose citizen was erased: no message goes."""
    if citizen_id is None:
        return ""
    return message_reference(alert_id=announcement_id, citizen_id=citizen_id)


def offers_announce(
    *,
    option: DepartureOption,
    citizen_ids: Collection[uuid.UUID],
    deadline: datetime.datetime,
    sent_by: User | None,
    announcement_id: uuid.UUID,
) -> None:
    """One message for the citizens offered seats on the option by one run (or by hand),
    with the id their offers' references were drawn from (`offer_reference`)."""
    if not citizen_ids:
        return
    message_alert_create(
        alert_id=announcement_id,
        country_code=option.operation.country_id,
        citizen_ids=citizen_ids,
        texts=offer_texts(option=option, deadline=deadline),
        created_by=sent_by,
    )


def withdrawals_announce(
    *,
    option: DepartureOption,
    citizen_ids: Collection[uuid.UUID],
    reason: str,
    sent_by: User | None,
) -> None:
    if not citizen_ids:
        return
    message_alert_create(
        country_code=option.operation.country_id,
        citizen_ids=citizen_ids,
        texts=withdrawal_texts(option=option, reason=reason),
        created_by=sent_by,
    )
