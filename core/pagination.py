from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages over lists that grow while they are read (registrations, deliveries)."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 500
