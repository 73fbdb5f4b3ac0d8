from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class RequestPagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 100 a page)."""

    page_size_query_param = "page_size"
    page_size_query_description = "Items per page (default 25, at most 100)."
    max_page_size = 100
