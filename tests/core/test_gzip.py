"""Item 6 of issue 16: HTML is sent compressed to a browser that accepts it (the public
cache's pages: tests/advisories/test_compression.py)."""

import gzip

import pytest

pytestmark = pytest.mark.usefixtures("geography")


def vary_of(response) -> list[str]:
    return [part.strip().lower() for part in response["Vary"].split(",")]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_page_is_compressed_for_a_browser_that_accepts_gzip(client, language):
    plain = client.get("/register/", HTTP_ACCEPT_LANGUAGE=language)
    compressed = client.get(
        "/register/", HTTP_ACCEPT_LANGUAGE=language, HTTP_ACCEPT_ENCODING="gzip, deflate, br"
    )

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    html = gzip.decompress(compressed.content).decode()
    assert html.startswith("<!doctype html>")
    assert f'<html lang="{language}">' in html
    assert len(compressed.content) < len(plain.content)
    assert "accept-encoding" in vary_of(compressed)
    assert "accept-encoding" in vary_of(plain)


def test_an_answer_that_is_not_a_page_is_sent_as_it_is(client):
    response = client.get("/api/schema/?format=json", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert len(response.content) > 200
    assert "Content-Encoding" not in response
    assert response.json()["openapi"]
