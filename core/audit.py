"""The audit trail: who did what to which record, from where, at which post.

`audit_record` is the one way to add an event. Two mixins record for the views that adopt
them: `AuditedModelAdminMixin` (every admin add, change, delete and detail view) and
`AuditedViewSetMixin` (every successful API write and `retrieve`). Sign-ins are recorded from
Django's authentication signals, wired in `CoreConfig.ready()`.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from core.http import client_address
from core.models import AuditEvent

Action = AuditEvent.Action

# Keeps `detail` to a few names and codes; a bigger one is a sign that a caller is putting
# records (and so personal data) in it.
DETAIL_MAX_BYTES = 2048

PostResolver = Callable[[Any], str]
_post_resolver: PostResolver | None = None


def register_post_resolver(resolver: PostResolver) -> None:
    """Let the app that knows about posts say which post(s) a staff member acts for.

    core cannot import accounts, so accounts registers this from its `AppConfig.ready()`.
    """
    global _post_resolver
    _post_resolver = resolver


def audit_record(
    *,
    request: HttpRequest | Request | None = None,
    actor: Any = None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    post_code: str = "",
    detail: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    The actor defaults to the request's authenticated user; `obj` fills the object type
    (`app_label.model`) and id. Without a `post_code` the event names the posts the actor
    belongs to. `detail` must hold names and codes only, never personal data: it is kept as
    long as the trail is. `username` names the account concerned when there is no actor (a
    failed sign-in). Runs in the caller's transaction, so a write that rolls back leaves
    no event claiming it happened.
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    detail = detail or {}
    if len(json.dumps(detail, default=str)) > DETAIL_MAX_BYTES:
        raise ValueError("Audit detail is limited to a few names and codes.")
    if actor is not None and not post_code and _post_resolver is not None:
        post_code = _post_resolver(actor)
    return AuditEvent.objects.create(
        user=actor,
        username=actor.get_username() if actor is not None else username,
        post_code=post_code[: AuditEvent._meta.get_field("post_code").max_length or 255],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        client_address=client_address(request) if request is not None else None,
        detail=detail,
    )


def _changed_field_names(message: str | list[dict[str, Any]]) -> list[str]:
    """The field names of an admin change message, without the objects' text (which may name a
    person)."""
    if isinstance(message, str):
        try:
            message = json.loads(message) if message else []
        except ValueError:
            return []
    names: set[str] = set()
    for part in message if isinstance(message, list) else []:
        for change in part.values() if isinstance(part, dict) else []:
            if isinstance(change, dict):
                names.update(str(name) for name in change.get("fields", []))
                if "name" in change:
                    names.add(str(change["name"]))
    return sorted(names)


class AuditedModelAdminMixin:
    """Put it before `admin.ModelAdmin` in the bases: records every add, change and delete made
    through the admin (bulk deletes included) and, with `audit_views` on, every opening of a
    record's page. Override `audit_post_code(obj)` when the record belongs to one post, and
    `audit_target(obj)` when its primary key is a secret."""

    audit_views = True

    def audit_post_code(self, obj: models.Model) -> str:
        return ""

    def audit_target(self, obj: models.Model) -> tuple[str, str]:
        """(object type, object id) to record for `obj`."""
        return obj._meta.label_lower, str(obj.pk)

    def _audit_admin(
        self, request: HttpRequest, action: str, obj: models.Model, fields: list[str] | None
    ) -> None:
        object_type, object_id = self.audit_target(obj)
        detail: dict[str, Any] = {"via": "admin"}
        if fields is not None:
            detail["fields"] = fields
        audit_record(
            request=request,
            action=action,
            object_type=object_type,
            object_id=object_id,
            post_code=self.audit_post_code(obj),
            detail=detail,
        )

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit_admin(request, Action.CREATE, obj, _changed_field_names(message))
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit_admin(request, Action.CHANGE, obj, _changed_field_names(message))
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> Any:
        for obj in queryset:
            self._audit_admin(request, Action.DELETE, obj, None)
        return super().log_deletions(request, queryset)  # type: ignore[misc]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response: HttpResponse = super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        if self.audit_views and request.method == "GET" and response.status_code == 200:
            model: type[models.Model] = self.model  # type: ignore[attr-defined]
            audit_record(
                request=request,
                action=Action.VIEW,
                object_type=model._meta.label_lower,
                object_id=object_id,
                detail={"via": "admin"},
            )
        return response


class AuditedViewSetMixin:
    """Put it before the DRF view or viewset class in the bases: records every successful write
    (POST, PUT, PATCH, DELETE, custom actions included) and every `retrieve`.

    The object is the one named in the URL, or for a create the `id` of the response body.
    Set `audit_object_type` when the view has no queryset; override `audit_post_code()` when the
    request concerns one post.
    """

    audit_object_type = ""
    WRITE_ACTIONS = {
        "POST": Action.CREATE,
        "PUT": Action.CHANGE,
        "PATCH": Action.CHANGE,
        "DELETE": Action.DELETE,
    }

    def audit_post_code(self) -> str:
        return ""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        if 200 <= response.status_code < 300:
            action = self._audit_action(request)
            if action is not None:
                self._audit(request, response, action)
        return response

    def _audit_action(self, request: Request) -> str | None:
        view_action = getattr(self, "action", None)
        if view_action == "retrieve":
            return Action.VIEW
        if request.method == "POST" and view_action not in (None, "create"):
            # A verb such as `approve` or `submit` changes the object it is called on.
            return Action.CHANGE
        return self.WRITE_ACTIONS.get(request.method or "")

    def _audit(self, request: Request, response: Response, action: str) -> None:
        lookup = str(getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk"))
        kwargs: dict[str, Any] = getattr(self, "kwargs", {})
        object_id = kwargs.get(lookup, "")
        if not object_id and isinstance(response.data, dict):
            object_id = response.data.get("id", "")
        object_type = self.audit_object_type
        if not object_type:
            queryset = getattr(self, "queryset", None)
            if queryset is None and hasattr(self, "get_queryset"):
                queryset = self.get_queryset()
            if queryset is not None:
                object_type = queryset.model._meta.label_lower
        audit_record(
            request=request,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            post_code=self.audit_post_code(),
            detail={
                "via": "api",
                "view": type(self).__name__,
                "action": str(getattr(self, "action", "") or request.method),
            },
        )


def record_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(request=request, actor=user, action=Action.LOGIN)


def record_login_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The attempted username is kept (who was targeted); the password never reaches here
    # unmasked and is not stored.
    audit_record(
        request=request,
        action=Action.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
    )


def record_lockout(
    sender: Any, request: HttpRequest | None = None, username: str | None = "", **kwargs: Any
) -> None:
    """For django-axes' `user_locked_out` signal (connected by accounts)."""
    audit_record(request=request, action=Action.LOCKED_OUT, username=str(username or "")[:150])
