"""The departures' words in a text message, handed over by notifications' router: LEAVE (or
PARTIR) states the sender's intent to leave; ACCEPT or DECLINE (ACCEPTER, REFUSER), with the
option's code the offer message gives, answers a seat offer through the same services as the
link and the API. Each is answered by one short text message through the ledger, in each
citizen's language; a refusal changes nothing and says why."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection
from functools import partial

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from departures.models import DepartureOperation, DepartureOption, Intent, Offer
from departures.selectors import intent_of_citizen, operation_for_citizen
from departures.services import intents, offers
from departures.services.options import CAPACITY_REASON
from notifications.alerts import LANGUAGES, MessageTexts, message_alert_create
from notifications.inbound import InboundText
from notifications.rendering import MANAGE_URL
from registrations.selectors import (
    citizen_get,
    household_members_of_citizen,
    presence_current_of_citizen,
)

# As `sms_keyword` leaves them (capitals, no accents): what the English and the French
# messages ask for, and what French speakers write ("accepté", "refuse").
LEAVE_WORDS = frozenset({"LEAVE", "PARTIR"})
ACCEPT_WORDS = frozenset({"ACCEPT", "ACCEPTER", "ACCEPTE"})
DECLINE_WORDS = frozenset({"DECLINE", "REFUSER", "REFUSE"})
WORDS = LEAVE_WORDS | ACCEPT_WORDS | DECLINE_WORDS
# Where the manage page shows the departure panel and its form's button.
DEPARTURE_LINK = f"{MANAGE_URL}#departure-title"


def reply_claims(text: InboundText) -> bool:
    """One of our words alone, or followed by one more (the code): "accept 3f9a1c". A
    sentence that happens to say "leave" is someone else's."""
    return 1 <= len(text.words) <= 2 and text.words[0] in WORDS


def sms_reply_act(*, text: InboundText) -> str:
    """Act on a departures word for the citizens with the sender's number (in the router's
    transaction, which claimed the message once). Returns what was done."""
    if not text.citizen_ids:
        return "unknown_sender"
    word, code = text.words[0], (text.words[1] if len(text.words) > 1 else "")
    if word in LEAVE_WORDS:
        return _leave(text)
    return _answer(text, accept=word in ACCEPT_WORDS, code=code)


# --- LEAVE -----------------------------------------------------------------------------------


def _leave(text: InboundText) -> str:
    """The intent of the first citizen with the number who is in a country with a live
    operation: created with them alone, leaving from today, from the region they are in; or,
    stated already, updated (who travels kept, so a held seat offer stays valid)."""
    found = next(
        (
            (citizen_id, operation)
            for citizen_id in text.citizen_ids
            if (operation := operation_for_citizen(citizen_id=citizen_id)) is not None
        ),
        None,
    )
    if found is None:
        _tell(
            citizen_ids=[_named(text)],
            country_code=_country_of(_named(text)),
            say=lambda: _("No assisted departure is organised where you are."),
        )
        return "no_operation"
    citizen_id, operation = found
    intent = intent_of_citizen(citizen_id=citizen_id, operation=operation)
    fields = _intent_fields(citizen_id=citizen_id, operation=operation, intent=intent)
    try:
        saved = intents.intent_submit(citizen_id=citizen_id, operation=operation, fields=fields)
    except ApplicationError as refusal:
        closed = refusal.field == "operation"
        _tell(
            citizen_ids=[citizen_id],
            country_code=operation.country_id,
            say=lambda: (
                _("This departure takes no new requests.")
                if closed
                else _("We could not record your request to leave by text message: %(url)s")
                % {"url": DEPARTURE_LINK}
            ),
        )
        return "refused"
    people = saved.people
    if _details_missing(citizen_id=citizen_id, intent=saved):
        _tell(
            citizen_ids=[citizen_id],
            country_code=operation.country_id,
            say=lambda: (
                _(
                    "Your request to leave is recorded for %(people)d person(s). Add who travels "
                    "with you and your travel documents: %(url)s"
                )
                % {"people": people, "url": DEPARTURE_LINK}
            ),
        )
        return "recorded_details_missing"
    _tell(
        citizen_ids=[citizen_id],
        country_code=operation.country_id,
        say=lambda: (
            _(
                "Your request to leave is recorded for %(people)d person(s). We will text you when "
                "seats are offered. To change it: %(url)s"
            )
            % {"people": people, "url": DEPARTURE_LINK}
        ),
    )
    return "recorded"


def _intent_fields(
    *, citizen_id: uuid.UUID, operation: DepartureOperation, intent: Intent | None
) -> intents.IntentFields:
    today = timezone.localdate()
    region_code = _region_where(citizen_id=citizen_id, operation=operation)
    if intent is None:
        return intents.IntentFields(
            travellers=[intents.TravellerFields()], earliest_date=today, region_code=region_code
        )
    return intents.IntentFields(
        travellers=[
            intents.TravellerFields(
                household_member_id=traveller.household_member_id,
                nationality=traveller.nationality,
                document_type=traveller.document_type,
                document_number=traveller.document_number,
                document_expiry=traveller.document_expiry,
            )
            for traveller in intent.travellers.all()
        ],
        earliest_date=max(intent.earliest_date, today),
        region_code=region_code or intent.region_id or "",
        needs_assistance=intent.needs_assistance,
        assistance_details=intent.assistance_details,
        minors_alone=intent.minors_alone,
        pregnant=intent.elderly_or_pregnant,
    )


def _region_where(*, citizen_id: uuid.UUID, operation: DepartureOperation) -> str:
    """The region the citizen is in, when the operation covers it."""
    citizen = citizen_get(citizen_id=citizen_id)
    presence = presence_current_of_citizen(citizen=citizen) if citizen else None
    if presence is None or presence.country_id != operation.country_id or not presence.region_id:
        return ""
    if operation.region_codes and presence.region_id not in operation.region_codes:
        return ""
    return presence.region_id


def _details_missing(*, citizen_id: uuid.UUID, intent: Intent) -> bool:
    """Whether the manifest still lacks something the form asks: a travel document, or the
    household members who are not in the request."""
    travellers = list(intent.travellers.all())
    if any(not traveller.document_type for traveller in travellers):
        return True
    named = {traveller.household_member_id for traveller in travellers}
    return any(
        member.id not in named for member in household_members_of_citizen(citizen_id=citizen_id)
    )


# --- ACCEPT, DECLINE -------------------------------------------------------------------------


def _answer(text: InboundText, *, accept: bool, code: str) -> str:
    """The offer the reply is about: the one of the sender's offers on the option the code
    names (for every citizen with the number it was made to), or without a code the sender's
    open offer when there is one option to choose; refused with a reason otherwise."""
    named = _named(text)
    held = list(
        Offer.objects.filter(intent__citizen_id__in=list(text.citizen_ids))
        .select_related("option", "option__operation", "intent")
        .order_by("-created_at")
    )
    if not held:
        _tell(
            citizen_ids=[named],
            country_code=_country_of(named),
            say=lambda: _(
                "No seat was offered to you, so nothing was changed. To ask to leave, reply LEAVE."
            ),
        )
        return "not_offered"
    if code:
        chosen = [offer for offer in held if offer.option.reply_code == code]
        if not chosen:
            _tell(
                citizen_ids=[named],
                country_code=held[0].option.operation.country_id,
                say=lambda: (
                    _(
                        "No seat offer of yours has the code %(code)s, so nothing was changed. "
                        "Reply with the code in our message: %(codes)s."
                    )
                    % {"code": code, "codes": _codes(held)}
                ),
            )
            return "unknown_code"
    else:
        live = [offer for offer in held if offer.state in Offer.LIVE_STATES]
        # Without an open offer, the latest one: an ACCEPT after the deadline is told so.
        pool = live or held[:1]
        if len({offer.option_id for offer in pool}) > 1:
            _tell(
                citizen_ids=[named],
                country_code=pool[0].option.operation.country_id,
                say=lambda: (
                    _(
                        "You have several seat offers. Reply ACCEPT or DECLINE followed by the "
                        "code of one: %(codes)s."
                    )
                    % {"codes": _codes(pool)}
                ),
            )
            return "code_needed"
        chosen = pool
    outcomes: dict[tuple[str, uuid.UUID], list[uuid.UUID]] = defaultdict(list)
    for offer in chosen:
        citizen_id = offer.intent.citizen_id
        assert citizen_id is not None  # noqa: S101 - found by the citizen's id
        outcomes[(_act(offer, citizen_id=citizen_id, accept=accept), offer.option_id)].append(
            citizen_id
        )
    options = {offer.option_id: offer.option for offer in chosen}
    for (outcome, option_id), citizen_ids in outcomes.items():
        option = options[option_id]
        _tell(
            citizen_ids=citizen_ids,
            country_code=option.operation.country_id,
            say=partial(_outcome_text, outcome, option),
        )
    return ",".join(sorted({outcome for outcome, _option in outcomes}))


def _act(offer: Offer, *, citizen_id: uuid.UUID, accept: bool) -> str:
    service = offers.offer_accept if accept else offers.offer_decline
    try:
        service(offer_id=offer.id, citizen_id=citizen_id)
    except ApplicationError as refusal:
        if refusal.code == "expired":
            return "expired"
        # No longer open: the words say why, read once the service has refused.
        offer.refresh_from_db(fields=["state", "withdrawn_reason"])
        offer.option.refresh_from_db(fields=["cancelled_at", "cancel_reason"])
        if offer.option.cancelled_at is not None:
            return "cancelled"
        if offer.withdrawn_reason == CAPACITY_REASON:
            return "full"
        if offer.state == Offer.State.EXPIRED:
            return "expired"
        return "closed"
    return "accepted" if accept else "declined"


def _outcome_text(outcome: str, option: DepartureOption) -> str:
    trip = _("%(kind)s on %(departs)s from %(place)s") % {
        "kind": option.get_kind_display(),
        "departs": timezone.localtime(option.departs_at).strftime("%Y-%m-%d %H:%M"),
        "place": option.place,
    }
    if outcome == "accepted":
        return _(
            "Your seats are confirmed: %(trip)s. Assembly point: %(point)s. Your page: %(url)s"
        ) % {
            "trip": trip,
            "point": option.assembly_point,
            "url": MANAGE_URL,
        }
    if outcome == "declined":
        return _("You declined the seats on the %(trip)s. You keep your place in the queue.") % {
            "trip": trip
        }
    if outcome == "expired":
        return _(
            "The time to answer the offer of seats on the %(trip)s has passed, so nothing was "
            "changed."
        ) % {"trip": trip}
    if outcome == "cancelled":
        return _(
            "The %(trip)s was cancelled (%(reason)s), so nothing was changed. You keep your "
            "place in the queue."
        ) % {"trip": trip, "reason": option.cancel_reason}
    if outcome == "full":
        return _(
            "There are fewer seats on the %(trip)s than planned and yours were withdrawn, so "
            "nothing was changed. You keep your place in the queue."
        ) % {"trip": trip}
    return _("The offer of seats on the %(trip)s is no longer open, so nothing was changed.") % {
        "trip": trip
    }


def _codes(held: Collection[Offer]) -> str:
    return ", ".join(dict.fromkeys(offer.option.reply_code for offer in held))


# --- the answer ------------------------------------------------------------------------------


def _named(text: InboundText) -> uuid.UUID:
    return text.citizen_id or text.citizen_ids[0]


def _country_of(citizen_id: uuid.UUID) -> str | None:
    """The country an answer to someone with no offer belongs to: their departure's, else
    where they are."""
    operation = operation_for_citizen(citizen_id=citizen_id)
    if operation is not None:
        return operation.country_id
    citizen = citizen_get(citizen_id=citizen_id)
    presence = presence_current_of_citizen(citizen=citizen) if citizen else None
    return presence.country_id if presence else None


def _tell(
    *, citizen_ids: Collection[uuid.UUID], country_code: str | None, say: Callable[[], str]
) -> None:
    """One text message to the citizens, each in their language, through the ledger; none to
    someone registered in no country (an alert belongs to one)."""
    if country_code is None:
        return
    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            sms = say()
        texts[language] = MessageTexts(subject="", text="", sms=sms)
    message_alert_create(
        country_code=country_code, citizen_ids=citizen_ids, texts=texts, send_email=False
    )
