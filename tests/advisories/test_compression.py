"""Item 6 of issue 16: the public cache's pages, compressed once when rendered, are not
compressed again by GZipMiddleware, and vary on the encoding once."""

import gzip

import pytest

from tests.advisories.conftest import publish

pytestmark = pytest.mark.usefixtures("geography")


def vary_of(response) -> list[str]:
    return [part.strip().lower() for part in response["Vary"].split(",")]


def test_a_cached_public_page_is_compressed_once_and_varies_once(
    client, ml_editor, ml_approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish(country_code="ML", editor=ml_editor, approver=ml_approver, level=3)
    client.get("/advisories/ML/")  # rendered and kept

    response = client.get("/advisories/ML/", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.content)  # once: a second layer would not be HTML
    assert html.startswith(b"<!doctype html>")
    assert vary_of(response).count("accept-encoding") == 1
