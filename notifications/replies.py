"""The text messages that answer a citizen's keyword (`receipts`): the confirmation of an
opt-out or of an opt-in, and the current advice where they are (INFO). Each is an alert to that
one citizen, by text message only, fanned out and sent through the ledger like any other."""

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from advisories.selectors import advice_current_for_place
from core import sms
from notifications.alerts import LANGUAGES, MessageTexts, message_alert_create
from notifications.models import Alert
from notifications.receipts import Keyword, inbound_message_claim
from registrations.selectors import citizen_get, presence_current_of_citizen

# An INFO answer is the advice where the sender is, cut to fit, with the link to all of it.
INFO_MAX_SEGMENTS = 2
CUT_MARK = "..."


def sms_keyword_answer(*, message_id: str, keyword_code: str) -> Alert | None:
    """Answer a keyword once, in the citizen's language: its inbound message is claimed in the
    transaction that creates the answer, so the event dispatched twice answers once. None when
    there is nothing to send: answered already, the citizen erased since, or registered in no
    country (an alert belongs to one)."""
    with transaction.atomic():
        message = inbound_message_claim(message_id=message_id)
        if message is None or message.citizen_id is None:
            return None
        citizen = citizen_get(citizen_id=message.citizen_id)
        presence = presence_current_of_citizen(citizen=citizen) if citizen else None
        if presence is None:
            return None
        texts = {}
        for language in LANGUAGES:
            with translation.override(language):
                if keyword_code == Keyword.INFO:
                    text = _info_text(
                        country_code=presence.country_id,
                        country_name=presence.country.name,
                        region_code=presence.region_id,
                        language=language,
                    )
                else:
                    text = _confirmation_text(keyword_code=keyword_code)
            texts[language] = MessageTexts(subject="", text="", sms=text)
        return message_alert_create(
            country_code=presence.country_id,
            citizen_ids=[message.citizen_id],
            texts=texts,
            send_email=False,
            confirms_opt_out=keyword_code == Keyword.OPT_OUT,
        )


def _confirmation_text(*, keyword_code: str) -> str:
    if keyword_code == Keyword.OPT_OUT:
        return _(
            "Consular alerts: you will receive no more text messages from us. "
            "To receive them again, reply START."
        )
    return _("Consular alerts: you will receive our text messages again. To stop them, reply STOP.")


def _info_text(
    *, country_code: str, country_name: str, region_code: str | None, language: str
) -> str:
    advice = advice_current_for_place(
        country_code=country_code, region_code=region_code, language=language
    )
    if advice is None:
        return _("There is no published travel advice for %(country)s.") % {"country": country_name}
    heading = _("%(place)s: level %(level)d, %(level_name)s.") % {
        "place": advice.place_name,
        "level": advice.level,
        "level_name": advice.level_name,
    }
    text = " ".join(part for part in (heading, advice.region_note, advice.instructions) if part)
    return sms_cut(text, link=advice.public_url, max_segments=INFO_MAX_SEGMENTS)


def sms_cut(text: str, *, link: str, max_segments: int) -> str:
    """The text whole when it fits in `max_segments` SMS parts; else cut after a word, marked,
    and followed by the link where the rest can be read."""
    text = " ".join(text.split())
    if sms.segments(text) <= max_segments:
        return text
    words = text.split(" ")
    while words:
        words.pop()
        cut = f"{' '.join(words)}{CUT_MARK} {link}"
        if sms.segments(cut) <= max_segments:
            return cut
    return link
