"""Issue 18: the public pages and feeds are served from the cache of the current publication."""

import gzip

import pytest
from django.core.cache import cache

from advisories import services
from tests.advisories.conftest import publish

pytestmark = pytest.mark.usefixtures("geography")

# Every public page and feed that shows Mali's level or its versions.
CHANGING = [
    "/advisories/",
    "/advisories/ML/",
    "/advisories/ML/history/",
    "/advisories/ML/cap.xml",
    "/advisories/feed.atom",
    "/api/v1/countries/ML/",
]
LANGUAGES = ["en", "fr"]


@pytest.fixture
def mali(ml_editor, ml_approver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)


def _get(client, url, language, **headers):
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language, **headers)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("url", CHANGING)
def test_a_publication_replaces_every_cached_page_in_every_language(
    mali, ml_editor, ml_approver, client, django_capture_on_commit_callbacks, url, language
):
    before = _get(client, url, language)
    assert _get(client, url, language).content == before.content  # served from the cache

    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=4)
    after = _get(client, url, language)
    cache.clear()
    rendered_afresh = _get(client, url, language)

    assert before.status_code == after.status_code == 200
    assert after.content != before.content
    assert after.content == rendered_afresh.content


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_new_level_shows_at_once_in_both_languages(
    mali, ml_editor, ml_approver, client, django_capture_on_commit_callbacks, language
):
    assert _get(client, "/api/v1/countries/ML/", language).json()["level"] == 3

    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=4)

    assert _get(client, "/api/v1/countries/ML/", language).json()["level"] == 4
    page = _get(client, "/advisories/ML/", language).content.decode()
    assert '<span class="level-number">4</span>' in page


def test_a_withdrawal_replaces_the_cap_message_with_its_cancel(
    mali, ml_approver, client, django_capture_on_commit_callbacks
):
    assert b"<msgType>Alert</msgType>" in client.get("/advisories/ML/cap.xml").content

    with django_capture_on_commit_callbacks(execute=True):
        services.advisory_withdraw(advisory=mali, withdrawn_by=ml_approver, reason="Over.")

    assert b"<msgType>Cancel</msgType>" in client.get("/advisories/ML/cap.xml").content


def test_a_page_is_rendered_apart_for_each_language(mali, client):
    english = _get(client, "/advisories/ML/", "en")
    french = _get(client, "/advisories/ML/", "fr")

    assert english.content != french.content
    assert english["ETag"] != french["ETag"]
    assert '<html lang="fr">' in french.content.decode()


@pytest.mark.parametrize("url", [*CHANGING, "/api/v1/countries/"])
def test_a_conditional_get_with_the_current_etag_is_answered_304(mali, client, url):
    first = client.get(url)

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    other = client.get(url, HTTP_IF_NONE_MATCH='W/"an-older-version"')

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert other.status_code == 200
    assert other.content == first.content


def test_the_etag_of_the_previous_publication_gets_the_new_page(
    mali, ml_editor, ml_approver, client, django_capture_on_commit_callbacks
):
    old = client.get("/advisories/ML/")

    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=4)
    response = client.get("/advisories/ML/", HTTP_IF_NONE_MATCH=old["ETag"])

    assert response.status_code == 200
    assert response["ETag"] != old["ETag"]


def test_a_conditional_get_on_the_publication_time_is_answered_304(mali, client):
    first = client.get("/advisories/ML/cap.xml")

    again = client.get("/advisories/ML/cap.xml", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert again.status_code == 304


@pytest.mark.parametrize("url", CHANGING)
def test_public_pages_are_cacheable_by_anyone_and_vary_on_the_language(mali, client, url):
    response = client.get(url)

    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    vary = {part.strip() for part in response["Vary"].split(",")}
    assert {"public", "max-age=60"} <= cache_control
    assert {"Accept-Language", "Cookie", "Accept-Encoding"} <= vary


@pytest.mark.parametrize("url", CHANGING)
def test_gzip_is_served_when_the_client_accepts_it(mali, client, url):
    plain = client.get(url)

    compressed = client.get(url, HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) < len(plain.content)
    assert compressed["ETag"] == plain["ETag"]


@pytest.mark.parametrize("url", ["/advisories/", "/advisories/ML/", "/advisories/ML/history/"])
def test_a_public_page_carries_no_secret_to_compress_or_share(mali, client, url):
    """BREACH: a compressed page must hold no secret; a shared one, no reader's token."""
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")

    assert not response.cookies
    assert b"csrfmiddlewaretoken" not in gzip.decompress(response.content)


def test_the_language_switch_works_without_a_csrf_token(client):
    client.handler.enforce_csrf_checks = True

    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/advisories/"})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"


@pytest.mark.parametrize("url", CHANGING)
def test_a_signed_in_reader_is_neither_served_from_nor_stored_in_the_shared_cache(
    mali, client, ml_editor, url
):
    client.force_login(ml_editor)

    response = client.get(url)

    assert response.status_code == 200
    assert "public" not in response.get("Cache-Control", "")
    assert "ETag" not in response


@pytest.mark.redis
def test_a_query_string_is_rendered_but_never_kept(mali, client):
    """Else anyone could fill the cache with variants of one page."""
    with_query = client.get("/advisories/ML/", {"n": "1"})
    kept_then = _page_keys()
    client.get("/advisories/ML/")

    assert with_query.status_code == 200
    assert "ETag" not in with_query
    assert kept_then == []
    assert len(_page_keys()) == 1


def _page_keys() -> list[str]:
    # Django's Redis backend keeps ":<version>:<key>".
    redis = cache._cache.get_client(None)  # type: ignore[attr-defined]
    keys = [key.decode().split(":", 2)[-1] for key in redis.keys("*")]
    return [key for key in keys if key.startswith("public-page:")]


def test_a_missing_country_is_not_cached(client, geography):
    assert client.get("/advisories/ML/cap.xml").status_code == 404
    assert "public" not in client.get("/advisories/ML/cap.xml").get("Cache-Control", "")
