"""The one error vocabulary of the services; core.api maps it to HTTP in one place."""

from django.utils.functional import Promise


class ApplicationError(Exception):
    """A refusal the caller can act on: names the field (if any) and a translatable reason."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str | Promise,
        *,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code or self.default_code


class ValidationFailed(ApplicationError):
    status_code = 400
    default_code = "invalid"


class PermissionDenied(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"
