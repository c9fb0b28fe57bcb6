"""DRF plumbing shared by every app: the exception handler that turns every refusal into one
JSON shape, `{"detail", "code", "errors": {field: [reasons]}}`, in the request's language."""

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

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
        return None
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
