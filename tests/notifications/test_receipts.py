import pytest
from django.db import IntegrityError, transaction

from core import events
from notifications.alerts import MessageTexts, message_alert_create
from notifications.events import InboundSmsReceived
from notifications.models import Alert, Delivery, Suppression
from notifications.receipts import inbound_record, sms_keyword
from tests.advisories.conftest import TEXTS, publish
from tests.notifications.conftest import make_citizen

pytestmark = pytest.mark.usefixtures("eager_tasks", "geography")

OPT_OUT_TEXTS = [
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT OUT",
    "ARRET",
    "ARRÊT",
    "DESABONNER",
    "DÉSABONNER",
    # Capitals, accents, punctuation and spaces around are what people type.
    "stop.",
    " Arrêt !",
    "opt-out",
    "Stop all",
    "désabonner",
]
NOT_OPT_OUTS = [
    "STOP 12345",
    "HELP 88RF",
    "Please stop the fighting near our house",
    "stopped",
]


def text_in(callbacks, *, sender: str, body: str, provider_id: str = "") -> None:
    """A text arriving through the inbound webhook's service, its event dispatched."""
    with callbacks(execute=True):
        inbound_record(
            provider="twilio", provider_id=provider_id or f"SM-{body}", sender=sender, body=body
        )


def sms_to(outbox, phone: str) -> list[str]:
    return [message.text for message in outbox if message.to == phone]


def test_keywords_are_compared_without_capitals_accents_or_punctuation():
    assert sms_keyword(" Arrêt !") == "ARRET"
    assert sms_keyword("stop.") == "STOP"
    assert sms_keyword("opt-out\n") == "OPT OUT"
    assert sms_keyword("STOP 12345") == "STOP 12345"


@pytest.mark.parametrize("body", OPT_OUT_TEXTS)
def test_every_opt_out_word_stops_text_messages(body, django_capture_on_commit_callbacks):
    citizen = make_citizen("ML-7")

    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body=body)

    suppression = Suppression.objects.get(citizen=citizen, channel="sms")
    assert suppression.reason == Suppression.Reason.OPT_OUT


@pytest.mark.parametrize("body", NOT_OPT_OUTS)
def test_a_text_that_only_contains_an_opt_out_word_stops_nothing(
    body, django_capture_on_commit_callbacks
):
    citizen = make_citizen("ML-7")
    published: list[InboundSmsReceived] = []
    events.subscribe(InboundSmsReceived, published.append)
    try:
        text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body=body)
    finally:
        events.unsubscribe(InboundSmsReceived, published.append)

    assert not Suppression.objects.filter(citizen=citizen).exists()
    # It is a reply for the cases app (a safety check's answer, say).
    assert len(published) == 1


@pytest.mark.parametrize("body", ["START", "unstop", "Subscribe!", "Reprendre"])
def test_every_opt_in_word_lifts_an_opt_out(body, django_capture_on_commit_callbacks):
    citizen = make_citizen("ML-7")
    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body="STOP")

    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body=body)

    assert not Suppression.objects.filter(citizen=citizen).exists()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "you will receive no more text messages from us. To receive them again, reply START.",
        ),
        (
            "fr",
            "vous ne recevrez plus de SMS de notre part. "
            "Pour les recevoir à nouveau, répondez REPRENDRE.",
        ),
    ],
)
def test_an_opt_out_is_confirmed_once_in_the_citizens_language_through_the_ledger(
    language, expected, django_capture_on_commit_callbacks, sms_outbox
):
    citizen = make_citizen("ML-7", language=language)

    text_in(
        django_capture_on_commit_callbacks, sender=citizen.phone, body="Stop", provider_id="SM1"
    )
    text_in(
        django_capture_on_commit_callbacks, sender=citizen.phone, body="STOP", provider_id="SM2"
    )

    (confirmation,) = sms_to(sms_outbox, citizen.phone)
    assert confirmation.endswith(expected)
    alert = Alert.objects.get()
    assert (alert.confirms_opt_out, alert.send_email, alert.citizen_ids) == (
        True,
        False,
        [str(citizen.id)],
    )
    assert Delivery.objects.get(alert=alert).status == Delivery.Status.SENT


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "you will receive our text messages again. To stop them, reply STOP."),
        ("fr", "vous recevrez à nouveau nos SMS. Pour ne plus les recevoir, répondez STOP."),
    ],
)
def test_an_opt_in_is_confirmed_in_the_citizens_language(
    language, expected, django_capture_on_commit_callbacks, sms_outbox
):
    citizen = make_citizen("ML-7", language=language)
    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body="STOP")

    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body="START")
    # Nothing was stopped any more: nothing to confirm.
    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body="REPRENDRE")

    assert len(sms_to(sms_outbox, citizen.phone)) == 2
    assert sms_to(sms_outbox, citizen.phone)[-1].endswith(expected)


def test_a_number_that_matches_no_citizen_gets_no_confirmation(
    django_capture_on_commit_callbacks, sms_outbox
):
    text_in(django_capture_on_commit_callbacks, sender="+22370009999", body="STOP")

    assert not Alert.objects.exists()
    assert sms_outbox == []


def test_after_an_opt_out_other_messages_are_not_sent_by_sms(
    django_capture_on_commit_callbacks, sms_outbox
):
    citizen = make_citizen("ML-7")
    text_in(django_capture_on_commit_callbacks, sender=citizen.phone, body="STOP")
    sms_outbox.clear()
    texts = {
        language: MessageTexts(subject="S", text="T", sms="A message") for language in ("en", "fr")
    }

    with django_capture_on_commit_callbacks(execute=True):
        message_alert_create(
            country_code="ML", citizen_ids=[citizen.id], texts=texts, send_email=False
        )

    assert sms_outbox == []


def test_an_opt_out_confirmation_does_not_pass_a_bounce(django_capture_on_commit_callbacks):
    citizen = make_citizen("ML-7")
    Suppression.objects.create(citizen=citizen, channel="sms", reason="bounce")
    texts = {
        language: MessageTexts(subject="", text="", sms="Stopped") for language in ("en", "fr")
    }

    with django_capture_on_commit_callbacks(execute=True):
        alert = message_alert_create(
            country_code="ML",
            citizen_ids=[citizen.id],
            texts=texts,
            send_email=False,
            confirms_opt_out=True,
        )

    assert not Delivery.objects.filter(alert=alert).exists()


@pytest.mark.parametrize(
    "shape",
    [
        {"region_codes": ["ML-7"], "citizen_ids": []},
        {"send_email": True},
        {"audience": Alert.Audience.EMERGENCY_CONTACTS},
        {"kind": Alert.Kind.STAFF_MESSAGE, "state": Alert.State.DRAFT},
        {"response_url_template": "https://example.org/{token}"},
    ],
)
def test_the_database_refuses_any_other_alert_that_would_pass_an_opt_out(shape):
    citizen = make_citizen("ML-7")
    fields = {
        "kind": Alert.Kind.MESSAGE,
        "country_id": "ML",
        "citizen_ids": [str(citizen.id)],
        "send_email": False,
        "confirms_opt_out": True,
        **shape,
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)


def test_info_answers_with_the_advice_where_the_sender_is(
    ml_staff, django_capture_on_commit_callbacks, sms_outbox
):
    editor, approver = ml_staff
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
        )
    in_gao = make_citizen("ML-7", language="fr")
    sms_outbox.clear()

    text_in(django_capture_on_commit_callbacks, sender=in_gao.phone, body="infos")

    (answer,) = sms_to(sms_outbox, in_gao.phone)
    assert answer == f"Gao : niveau 4, Formellement déconseillé. {TEXTS['instructions_fr']}"


def test_a_long_info_answer_is_cut_to_two_parts_with_the_link(
    ml_staff, django_capture_on_commit_callbacks, sms_outbox, settings
):
    from core import sms

    settings.SITE_URL = "https://consular.example.org"
    editor, approver = ml_staff
    long_instructions = " ".join(["Leave by the safest road and tell the embassy."] * 12)
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            country_code="ML",
            editor=editor,
            approver=approver,
            level=3,
            instructions_en=long_instructions,
        )
    somewhere = make_citizen(None, country_code="ML")
    sms_outbox.clear()

    text_in(django_capture_on_commit_callbacks, sender=somewhere.phone, body="INFO")

    (answer,) = sms_to(sms_outbox, somewhere.phone)
    assert answer.startswith("Mali: level 3, Reconsider travel. Leave by the safest road")
    assert answer.endswith("... https://consular.example.org/advisories/ML/")
    assert sms.segments(answer) == 2
