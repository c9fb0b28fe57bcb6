"""DRF plumbing shared by every app: the exception handler that turns every refusal into one
JSON shape, `{"detail", "code", "errors": {field: [reasons]}}`, in the request's language, an
unexpected error included."""

import copy
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import IntegrityError, models
from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


class StrictCharField(serializers.CharField):
    """Text that must come as text: DRF's CharField turns a JSON number into its digits, where
    the schema promises a string and a client sending 0 for an email has a bug to hear about.
    Form and query values are always text, so only JSON bodies see the difference."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ShallowFieldCopiesMixin:
    """For a plain input serializer on a hot path. DRF gives each serializer its own copy of the
    declared fields with `copy.deepcopy`, which calls each field's `__init__` again with its
    declared arguments: a fifth of a registration's Python. The declared fields are never bound
    (only copies are), and binding and validating assign to a field's own attributes without
    changing the values it was declared with (its validators, choices and messages), so a
    shallow copy gives each serializer fields of its own for much less. Nested serializers are
    still deep-copied: they hold state of their own (data, errors, fields)."""

    _declared_fields: dict[str, serializers.Field[Any, Any, Any, Any]]

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer)
            else copy.copy(field)
            for name, field in self._declared_fields.items()
        }


# For ModelSerializers whose model text fields are writable.
STRICT_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
}

NON_FIELD = "non_field_errors"


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"field.sub": [reasons]}."""
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            errors.update(_flatten(value, name))
        return errors
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or NON_FIELD: [str(item) for item in detail]}
        errors = {}
        for index, item in enumerate(detail):
            if item:
                errors.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    return {prefix or NON_FIELD: [str(detail)]}


def _body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "errors": errors or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        errors = {exc.field: [str(exc.message)]} if exc.field else {}
        return Response(_body(str(exc.message), exc.code, errors), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        )
    if isinstance(exc, IntegrityError):
        # Services check what they can; the constraint is the last guard against a race.
        logger.warning("integrity error turned into 409: %s", type(exc).__name__)
        return Response(
            _body(_("This conflicts with data recorded meanwhile; try again."), "conflict"),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return _server_error(exc, context)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first_field, reasons = next(iter(errors.items()), (NON_FIELD, [_("Invalid input.")]))
        summary = reasons[0] if first_field == NON_FIELD else f"{first_field}: {reasons[0]}"
        response.data = _body(summary, "invalid", errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        response.data = _body(str(detail), code if isinstance(code, str) else "error")
    return response


def _server_error(exc: Exception, context: dict[str, Any]) -> Response:
    """A bug: the client gets the error shape it knows, in JSON, never Django's HTML page.

    The log names the view and the exception's type only (the path and the message may carry
    personal data); the traceback goes with it, as with Django's own 500."""
    view = context.get("view")
    request = context.get("request")
    logger.error(
        "unexpected %s in %s",
        type(exc).__name__,
        type(view).__name__ if view is not None else "an API view",
        exc_info=exc,
    )
    if request is not None:
        # What Django sends for the 500s it renders itself: error reporters listen to it, and
        # the test client re-raises the exception unless told not to.
        got_request_exception.send(sender=None, request=getattr(request, "_request", request))
    return Response(
        _body(_("Something went wrong on our side; try again later."), "server_error"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _caller_is_known(request: HttpRequest) -> bool:
    """A signed-in staff member (token or verified session) or a citizen (`request.auth` is
    their registration); DRF writes both back onto Django's request."""
    if getattr(request, "auth", None) is not None:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class ApiCacheControlMiddleware:
    """`Cache-Control: no-store` on every API answer except an anonymous read.

    A response to a known caller may name people (a registration, a case, a delivery), and one
    to a write may carry a secret (a self-service token): no browser, proxy or back button may
    keep either. Deciding it here, rather than per view, means a new route cannot forget it.
    What an anonymous caller reads (published advisories, countries) is public and may stay
    cacheable; it varies on the credentials, so a cache never serves it to a signed-in caller
    (staff also see drafts there)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX):
            return response
        if request.method in SAFE_METHODS and not _caller_is_known(request):
            patch_vary_headers(response, ["Authorization", "Cookie"])
        else:
            add_never_cache_headers(response)
        return response


# Django's own error pages, for what fails before or outside a DRF view (a path no route
# matches, a request the middleware refuses, a crash in a middleware): JSON under the API,
# the site's pages elsewhere. Installed as handler400/404/500 in the root URLconf.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(_body(_("Invalid input."), "invalid"), status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(_body(str(exceptions.NotFound.default_detail), "not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponseBase:
    if request.path.startswith(API_PREFIX):
        body = _body(_("Something went wrong on our side; try again later."), "server_error")
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
