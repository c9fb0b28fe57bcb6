import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken

from core.models import AuditEvent
from tests.accounts.factories import UserFactory, login_verified

pytestmark = pytest.mark.django_db

TOKENS = "/admin/authtoken/tokenproxy/"


def test_superuser_issues_a_token_sees_it_once_and_revokes_it(client):
    root = UserFactory(username="root", is_superuser=True)
    officer = UserFactory(username="officer")
    login_verified(client, root)

    response = client.post(f"{TOKENS}add/", {"user": officer.pk}, follow=True)

    token = Token.objects.get(user=officer)
    assert token.key in response.content.decode()  # shown once, in the confirmation message
    listing = client.get(TOKENS).content.decode()
    assert "officer" in listing
    assert token.key not in listing
    client.post(f"{TOKENS}{officer.pk}/delete/", {"post": "yes"})
    assert not Token.objects.filter(user=officer).exists()
    events = AuditEvent.objects.filter(object_type="authtoken.token").order_by("id")
    assert list(events.values_list("action", "object_id")) == [
        ("create", str(officer.pk)),
        ("delete", str(officer.pk)),
    ]
    assert token.key not in str(list(AuditEvent.objects.values_list()))


@pytest.mark.parametrize("path", [TOKENS, f"{TOKENS}add/"])
def test_staff_other_than_superusers_cannot_reach_the_tokens(client, path):
    post_admin = UserFactory()
    # Even holding every token permission: only superusers manage tokens.
    post_admin.user_permissions.add(*Permission.objects.filter(content_type__app_label="authtoken"))
    login_verified(client, post_admin)

    response = client.post(path, {"user": post_admin.pk})

    assert response.status_code == 403
    assert not Token.objects.exists()


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )


def test_no_url_hands_out_tokens():
    views = [view for view in _views(get_resolver().url_patterns) if view is not None]

    assert views, "the URL configuration was walked"
    assert not [view for view in views if issubclass(view, ObtainAuthToken)]
