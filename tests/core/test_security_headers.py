import re

import pytest

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_page_carries_the_strict_policy(client):
    policy = _policy(client.get("/"))

    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]


def test_each_response_gets_a_fresh_nonce(client):
    first = _policy(client.get("/api/docs/"))["script-src"]
    second = _policy(client.get("/api/docs/"))["script-src"]

    assert first[0] == "'self'"
    assert first[1].startswith("'nonce-")
    assert first[1] != second[1]


def test_api_docs_have_no_inline_code_without_the_nonce(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    inline_scripts = re.findall(r"<script(?![^>]*\ssrc=)([^>]*)>", html)
    assert inline_scripts, "the start-up script is inline"
    assert all(f'nonce="{nonce}"' in attributes for attributes in inline_scripts)
    assert "<style" not in html
    # The assets are this site's own files, not a CDN's.
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []


def test_admin_login_carries_the_policy(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
