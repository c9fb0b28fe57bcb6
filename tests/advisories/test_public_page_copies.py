"""Issue 18: a public page the stack served is answered again from the web process's copy
(core.public_cache.PublicPageMiddleware), never once a publication has changed it."""

import gzip
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.advisories.conftest import publish

pytestmark = pytest.mark.usefixtures("geography")

PAGES = [
    "/advisories/",
    "/advisories/ML/",
    "/advisories/ML/cap.xml",
    "/advisories/feed.atom",
    "/api/v1/countries/ML/",
]
LANGUAGES = ["en", "fr"]


@pytest.fixture
def mali(ml_editor, ml_approver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)


def _from_copy(response) -> bool:
    """The copy answers before LocaleMiddleware and the authentication middleware run."""
    request = response.wsgi_request
    return not hasattr(request, "LANGUAGE_CODE") and not hasattr(request, "user")


def _warm(client, url: str, **headers: str):
    """The stack answers, then the copy."""
    first = client.get(url, **headers)
    second = client.get(url, **headers)
    assert not _from_copy(first)
    assert _from_copy(second)
    return first, second


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", PAGES)
def test_the_copy_answers_what_the_stack_answered(mali, client, url, language):
    by_stack, by_copy = _warm(client, url, HTTP_ACCEPT_LANGUAGE=language)

    assert by_copy.status_code == 200
    assert by_copy.content == by_stack.content
    assert dict(by_copy.items()) == dict(by_stack.items())
    assert not by_copy.cookies


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_publication_makes_every_copy_give_way_in_both_languages(
    mali, ml_editor, ml_approver, client, django_capture_on_commit_callbacks, language
):
    for url in PAGES:
        _warm(client, url, HTTP_ACCEPT_LANGUAGE=language)

    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=4)

    page = client.get("/advisories/ML/", HTTP_ACCEPT_LANGUAGE=language)
    api = client.get("/api/v1/countries/ML/", HTTP_ACCEPT_LANGUAGE=language)
    again = client.get("/advisories/ML/", HTTP_ACCEPT_LANGUAGE=language)
    assert not _from_copy(page)
    assert not _from_copy(api)
    assert '<span class="level-number">4</span>' in page.content.decode()
    assert api.json()["level"] == 4
    assert _from_copy(again)
    assert again.content == page.content
    for url in ["/advisories/", "/advisories/ML/cap.xml", "/advisories/feed.atom"]:
        assert not _from_copy(client.get(url, HTTP_ACCEPT_LANGUAGE=language))


def test_each_language_has_its_own_copy(mali, client):
    _warm(client, "/advisories/ML/", HTTP_ACCEPT_LANGUAGE="en")

    french = client.get("/advisories/ML/", HTTP_ACCEPT_LANGUAGE="fr")
    client.cookies["django_language"] = "fr"
    french_by_cookie = client.get("/advisories/ML/", HTTP_ACCEPT_LANGUAGE="en")

    assert not _from_copy(french)
    assert '<html lang="fr">' in french.content.decode()
    assert _from_copy(french_by_cookie)
    assert french_by_cookie.content == french.content
    assert french_by_cookie["Content-Language"] == "fr"


@pytest.mark.parametrize("url", PAGES)
def test_the_copy_answers_a_conditional_get_with_304(mali, client, url):
    first, _ = _warm(client, url)

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    older = client.get(url, HTTP_IF_NONE_MATCH='W/"an-older-version"')

    assert _from_copy(again)
    assert again.status_code == since.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"]
    assert again["Vary"] == first["Vary"]
    assert "Content-Type" not in again
    assert older.status_code == 200
    assert older.content == first.content


@pytest.mark.parametrize("url", PAGES)
def test_the_copy_is_compressed_for_a_client_that_accepts_it(mali, client, url):
    _, plain = _warm(client, url)
    _, compressed = _warm(client, url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content


def test_the_copy_carries_the_security_and_cache_headers(mali, client):
    _, response = _warm(client, "/advisories/ML/")

    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert {"public", "max-age=60"} <= {
        part.strip() for part in response["Cache-Control"].split(",")
    }
    assert {"Accept-Language", "Cookie", "Accept-Encoding"} <= {
        part.strip() for part in response["Vary"].split(",")
    }


@pytest.mark.parametrize("url", PAGES)
def test_a_signed_in_reader_is_never_answered_from_the_copy(mali, client, ml_editor, url):
    _warm(client, url)

    client.force_login(ml_editor)
    response = client.get(url)

    assert not _from_copy(response)
    assert "public" not in response.get("Cache-Control", "")
    assert "ETag" not in response


def test_a_reader_with_messages_waiting_is_answered_by_the_view(mali, client):
    """The base template shows them: such a page is for that reader alone."""
    _warm(client, "/advisories/ML/")
    client.cookies["messages"] = "waiting"

    response = client.get("/advisories/ML/")

    assert not _from_copy(response)
    assert "ETag" not in response


def test_an_api_caller_with_credentials_is_never_answered_from_the_copy(mali, client, ml_editor):
    _warm(client, "/api/v1/countries/ML/")
    token = Token.objects.create(user=ml_editor)

    response = client.get("/api/v1/countries/ML/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert not _from_copy(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/", "/register/", "/manage/"])
def test_a_page_outside_the_publication_is_never_copied(mali, client, url):
    client.get(url)

    response = client.get(url)

    assert not _from_copy(response)


def test_a_query_string_is_never_answered_from_the_copy(mali, client):
    _warm(client, "/advisories/ML/")

    response = client.get("/advisories/ML/", {"n": "1"})

    assert not _from_copy(response)


def test_a_host_not_allowed_is_refused_by_the_copy_too(mali, client):
    _warm(client, "/advisories/ML/")

    response = client.get("/advisories/ML/", HTTP_HOST="attacker.example")

    assert response.status_code == 400


def test_a_copy_lives_no_longer_than_its_rendering(mali, client, settings):
    _warm(client, "/advisories/ML/")

    later = timezone.now() + timedelta(seconds=settings.PUBLIC_CACHE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        response = client.get("/advisories/ML/")

    assert not _from_copy(response)
