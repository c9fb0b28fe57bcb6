import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from core.links import token_url
from registrations import tokens


def test_a_token_link_is_the_reversed_url():
    citizen_id = uuid.UUID("7f1c9c1e-8a7e-4c2b-9d1e-2b6f0e6c1a11")
    token = tokens.manage_token(citizen_id)  # letters, digits, "-", "_" and ":"
    for language in ("en", "fr"):
        with translation.override(language):
            assert token_url("registrations:manage", token) == settings.SITE_URL + reverse(
                "registrations:manage", kwargs={"token": token}
            )


def test_a_token_link_quotes_as_reverse_does():
    token = "a b?c#d%e"
    assert token_url("notifications:unsubscribe", token) == settings.SITE_URL + reverse(
        "notifications:unsubscribe", kwargs={"token": token}
    )
