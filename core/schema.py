"""The OpenAPI schema tells every answer an operation can give, refusals included: each
operation documents the error body of `core.api.exception_handler` under each status it can
answer, derived from what the operation has (a body, query or path parameters, credentials,
throttles) so a new route is documented the same way without a decorator. An optional query
parameter given empty counts as not given, and says so."""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A malformed cursor is DRF's 404 (a page that does not exist), not a 400.
CURSOR = "cursor"


class ErrorSerializer(serializers.Serializer[Any]):
    """Every refusal and error of the API, from 400 to 500."""

    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    code = serializers.CharField(
        help_text="A stable machine-readable reason: invalid, not_found, conflict, "
        "server_error, ..."
    )
    # DRF's metaclass moves declared fields off the class, so `Serializer.errors` still works.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Reasons by field ("household.1.name"); empty when no field is at fault.',
    )


ERROR_DESCRIPTIONS = {
    "400": "The request breaks a rule: `errors` names each field or parameter and why.",
    "401": "No credentials, or credentials that are invalid or expired.",
    "403": "The caller may not do this.",
    "404": "No such resource among those the caller may see (or an invalid page cursor).",
    "409": "The resource's state forbids this now, or it conflicts with data written meanwhile.",
    "415": "A body in a media type the operation does not read (it reads JSON, forms and "
    "multipart), or a part that declares none.",
    "429": "Too many requests: try again after the number of seconds in `Retry-After`.",
}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: Any,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                # Every filter and page parameter reads `?name=` as not given, as HTML forms
                # send an empty field.
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        security = operation.get("security", [])
        codes = []
        if "requestBody" in operation or query - {CURSOR}:
            codes.append("400")
        if any(requirement for requirement in security):
            # Credentials that are sent are checked, even where none are needed.
            codes.append("401")
        if {} not in security or (
            self.method in WRITE_METHODS and any("cookieAuth" in r for r in security)
        ):
            # A caller without the right role, or a session's write without its CSRF token.
            codes.append("403")
        if any(p["in"] == "path" for p in parameters) or CURSOR in query:
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes.append("409")
        if "requestBody" in operation:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes
