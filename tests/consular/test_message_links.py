"""No link the project sends a citizen carries their email, phone number or name: links land in
web servers' access logs, browser histories and mail scanners (ASVS 14.2.1)."""

import datetime
import re
from urllib.parse import unquote_plus
from xml.etree import ElementTree as ET

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from cases.models import Case
from cases.services import cases as case_services
from cases.services import safety_checks
from consular.celery import app as celery_app
from notifications import staff_messages
from notifications.alerts import MessageTexts
from notifications.receipts import inbound_record
from registrations import services as registrations
from registrations.models import Citizen
from tests.accounts.factories import staff_at
from tests.advisories.conftest import publish
from tests.registrations.factories import PresenceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("geography")]

GIVEN_NAME, FAMILY_NAME = "Zelmira", "Quennell"
EMAIL = "zelmira.quennell@example.org"
PHONE = "+22370009876"
URL = re.compile(r"https?://[^\s\"'<>]+")
STAFF_TEXTS = {
    "en": MessageTexts(subject="Road closed", text="Hello {name}, the road is closed.", sms="Road"),
    "fr": MessageTexts(subject="Route fermée", text="Bonjour {name}, route fermée.", sms="Route"),
}


@pytest.fixture
def eager_tasks(monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def _texts(sms_outbox) -> list[str]:
    """Everything a citizen was sent: subjects, bodies (text and HTML), headers, texts."""
    texts = [message.text for message in sms_outbox]
    for message in mail.outbox:
        texts += [message.subject, message.body, *map(str, message.extra_headers.values())]
        texts += [str(content) for content, _type in getattr(message, "alternatives", [])]
    return texts


def _links(sms_outbox) -> set[str]:
    return {link for text in _texts(sms_outbox) for link in URL.findall(text)}


def _code(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match
    return match.group(1)


def _send_everything(callbacks, sms_outbox) -> Citizen:
    """Every message the project sends to a citizen, each through the path that sends it."""
    with callbacks(execute=True):
        citizen = registrations.citizen_register(
            person=registrations.PersonInput(
                given_name=GIVEN_NAME,
                family_name=FAMILY_NAME,
                email=EMAIL,
                phone=PHONE,
                language="fr",
                notify_by_sms=True,
            ),
            household=[],
            presence=registrations.PresenceInput(
                country="ML", region="ML-7", start_date=timezone.localdate()
            ),
            kind="residence",
            consent=True,
        ).citizen
    [verify_link] = [link for link in _links(sms_outbox) if "/verify-email/" in link]
    assert Client().get(verify_link).status_code == 200
    registrations.phone_verify(citizen=citizen, code=_code(sms_outbox[-1].text))
    with callbacks(execute=True):
        registrations.manage_link_request(email=EMAIL)
        registrations.access_code_request(email=EMAIL)
    Citizen.objects.filter(id=citizen.id).update(confirmation_requested_at=timezone.now())
    registrations.confirmation_request_send(citizen_id=citizen.id)

    editor = staff_at("ML", Membership.Role.EDITOR, username="editor")
    approver = staff_at("ML", Membership.Role.APPROVER, username="approver")
    officer = staff_at("ML", Membership.Role.OFFICER, username="officer")
    second_officer = staff_at("ML", Membership.Role.OFFICER, username="second-officer")
    with callbacks(execute=True):
        publish(country_code="ML", editor=editor, approver=approver, level=3)
    with callbacks(execute=True):
        publish(
            country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
        )

    now = timezone.now()
    check = safety_checks.safety_check_create(
        author=officer,
        country_code="ML",
        fields=safety_checks.CheckFields(
            region_codes=["ML-7"],
            question_en="Fighting reported in Gao. Are you safe?",
            question_fr="Combats signalés à Gao. Êtes-vous en sécurité ?",
            deadline=now + datetime.timedelta(hours=6),
        ),
    )
    safety_checks.safety_check_submit(check=check, submitted_by=officer)
    with callbacks(execute=True):
        safety_checks.safety_check_approve(check=check, approver=second_officer)
    with callbacks(execute=True):
        safety_checks.safety_checks_tick(now=now + datetime.timedelta(hours=3))
    with callbacks(execute=True):
        inbound_record(provider="twilio", provider_id="SM-unclear", sender=PHONE, body="maybe")

    alert = staff_messages.staff_message_create(
        author=officer, country_code="ML", region_codes=["ML-7"], texts=STAFF_TEXTS
    )
    staff_messages.staff_message_submit(alert=alert, submitted_by=officer)
    with callbacks(execute=True):
        staff_messages.staff_message_approve(alert=alert, approver=second_officer)

    case = case_services.case_open(
        opened_by=officer,
        kind=Case.Kind.OTHER,
        country_code="ML",
        summary="Call",
        citizen_id=citizen.id,
    )
    with callbacks(execute=True):
        case_services.case_message_send(
            case=case, actor=officer, subject="Hello", text="Call us back."
        )
    return citizen


@pytest.mark.usefixtures("eager_tasks")
def test_no_link_sent_to_a_citizen_carries_their_email_phone_or_name(
    django_capture_on_commit_callbacks, sms_outbox
):
    _send_everything(django_capture_on_commit_callbacks, sms_outbox)

    links = _links(sms_outbox)
    private = [EMAIL, PHONE, PHONE.lstrip("+"), GIVEN_NAME, FAMILY_NAME]
    leaks = [
        (value, link)
        for link in links
        for value in private
        if value.lower() in link.lower() or value.lower() in unquote_plus(link).lower()
    ]

    # The scan saw each kind of link the project sends, so it cannot pass by seeing none.
    for kind in ("/verify-email/", "/manage/", "/unsubscribe/", "/safety/"):
        assert any(kind in link for link in links), kind
    assert leaks == []


@pytest.mark.usefixtures("eager_tasks")
def test_a_level_change_links_cap_and_atom_to_the_same_site(
    django_capture_on_commit_callbacks, sms_outbox, settings, client
):
    # What `PORT=9000 make run` sets; the test client asks for another host on purpose.
    settings.SITE_URL = "http://127.0.0.1:9000"
    PresenceFactory(region_id="ML-7", start_date=timezone.localdate())
    editor = staff_at("ML", Membership.Role.EDITOR, username="editor")
    approver = staff_at("ML", Membership.Role.APPROVER, username="approver")
    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=editor, approver=approver, level=3)
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            country_code="ML", editor=editor, approver=approver, level=3, overrides=[("ML-7", 4)]
        )

    message_links = _links(sms_outbox)
    cap = ET.fromstring(client.get("/advisories/ML/cap.xml").content)  # noqa: S314 - ours
    atom = ET.fromstring(client.get("/advisories/feed.atom").content)  # noqa: S314 - ours

    cap_web = {element.text for element in cap.iter("{urn:oasis:names:tc:emergency:cap:1.2}web")}
    atom_links = {element.get("href") for element in atom.iter("{http://www.w3.org/2005/Atom}link")}
    assert cap_web == {"http://127.0.0.1:9000/advisories/ML/"}
    assert cap_web <= message_links
    assert any("/unsubscribe/" in link for link in message_links)
    assert any("/manage/" in link for link in message_links)
    assert atom_links
    links = message_links | cap_web | atom_links
    assert [link for link in links if not link.startswith("http://127.0.0.1:9000/")] == []
