"""Item 6 of issue 16: whoever asks for help sees the covering post's emergency number, as a
number to tap, on the form and after it, and the reference of their case to quote."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Post
from cases.models import Case
from cases.panels import ask_help_token
from tests.cases.conftest import citizen_in, start_check

pytestmark = pytest.mark.usefixtures("geography")

HELP = {"help_kind": "medical", "people_with_them": "2", "location": "Gao", "details": ""}
TEL = '<a class="phone" href="tel:+22370000000">+223 70 00 00 00</a>'
WORDS = {
    "en": ("Call the 24/7 emergency line of Embassy in Bamako:", "Your reference"),
    "fr": ("Appelez la permanence 24 h/24 de Embassy in Bamako :", "Votre référence"),
}


@pytest.fixture
def bamako_line(bamako_officer):
    Post.objects.filter(code="post-ml").update(emergency_phone="+223 70 00 00 00")


@pytest.fixture
def check_token(bamako_officer, bamako_line, django_capture_on_commit_callbacks):
    citizen_in("ML-7", name="Awa")
    start_check(bamako_officer, django_capture_on_commit_callbacks)
    line = next(line for line in mail.outbox[0].body.splitlines() if "/safe/" in line)
    return line.split("/safety/")[1].split("/")[0]


def reference_on(html: str) -> str:
    found = re.search(r'<strong class="reference-code">([0-9A-F]{8})</strong>', html)
    assert found, html
    return found.group(1)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_help_form_of_a_safety_check_shows_the_emergency_number(client, check_token, language):
    response = client.get(
        reverse("cases:respond_help", args=[check_token]), HTTP_ACCEPT_LANGUAGE=language
    )

    html = response.content.decode()
    assert TEL in html
    assert WORDS[language][0] in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_after_asking_for_help_the_page_gives_the_reference_and_the_number(
    client, check_token, language
):
    response = client.post(
        reverse("cases:respond_help", args=[check_token]), HELP, HTTP_ACCEPT_LANGUAGE=language
    )

    html = response.content.decode()
    case = Case.objects.get()
    assert reference_on(html) == case.reference == str(case.id)[:8].upper()
    assert WORDS[language][1] in html
    assert TEL in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_asking_for_help_from_ones_own_page_gives_the_reference_and_the_number(
    client, bamako_line, language
):
    awa = citizen_in("ML-7", name="Awa")
    url = reverse("cases:ask_help", args=[ask_help_token(awa.id)])

    form = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    done = client.post(url, HELP, HTTP_ACCEPT_LANGUAGE=language)

    assert TEL in form.content.decode()
    assert reference_on(done.content.decode()) == Case.objects.get(citizen=awa).reference
    assert TEL in done.content.decode()


def test_a_post_without_an_emergency_line_shows_no_empty_number(client, bamako_officer):
    awa = citizen_in("ML-7", name="Awa")

    response = client.get(reverse("cases:ask_help", args=[ask_help_token(awa.id)]))

    assert response.status_code == 200
    assert "tel:" not in response.content.decode()


def test_the_help_form_with_errors_lists_them_at_the_top(client, bamako_line):
    awa = citizen_in("ML-7", name="Awa")

    response = client.post(
        reverse("cases:ask_help", args=[ask_help_token(awa.id)]),
        {"help_kind": "", "people_with_them": "0"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    html = response.content.decode()
    assert 'href="#id_help_kind"' in html
    assert 'href="#id_people_with_them"' in html
    assert "Il y a un problème" in html
    # A label that asks a question is not followed by a colon.
    assert "(vous compris) ? Assurez-vous" in html
    assert Case.objects.count() == 0
