from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    """Stable pages over lists that grow while they are read (registrations, deliveries).

    A page size that is not a whole number within the bounds is a 400 naming `page_size`, not
    quietly the default: a client asking for 10,000 rows learns it gets at most 500."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param, "")
        if not raw:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters
