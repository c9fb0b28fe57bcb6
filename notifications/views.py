from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.selectors import REGISTER_ROLES, posts_of_user
from notifications.models import Channel, OutboxMessage, Suppression
from notifications.rendering import UNSUBSCRIBE_SALT
from notifications.suppressions import suppression_add


@csrf_exempt  # RFC 8058 one-click: mail providers POST without a form; the token is the proof.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        channel = Channel(data["ch"])
        citizen_id = data["c"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        suppression_add(citizen_id=citizen_id, channel=channel, reason=Suppression.Reason.OPT_OUT)
        return render(request, "notifications/unsubscribe.html", {"done": True, "channel": channel})
    return render(request, "notifications/unsubscribe.html", {"channel": channel})


@never_cache
@require_http_methods(["GET"])
def outbox(request: HttpRequest) -> HttpResponse:
    """Every message the development backends kept: for DEBUG, or staff past the second
    factor who work with citizens (officers, post administrators): the messages name the
    citizens written to, which advisory editors and approvers do not see."""
    user: Any = request.user
    if not (
        settings.DEBUG
        or (
            user.is_authenticated
            and user.is_staff
            and user.is_verified()
            and (user.is_superuser or posts_of_user(user=user, roles=REGISTER_ROLES).exists())
        )
    ):
        raise Http404
    messages = OutboxMessage.objects.all()[:200]
    return render(request, "notifications/outbox.html", {"outbox": messages})
