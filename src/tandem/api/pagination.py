"""``?limit=&offset=`` pagination answering ``{"count", "items"}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from tandem.access.masking import mask_rows

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageQuery(Schema):
    """``limit`` and ``offset`` for list endpoints that build their own page (the documented 1-500)."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")
    offset: int = Field(0, ge=0, le=2**31, description="How many items to skip.")


class Pagination(LimitOffsetPagination):
    """Limit/offset with a hard maximum page size; asking for more is a 422, not a silent cut."""

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")
        offset: int = Field(0, ge=0, le=2**31, description="How many items to skip.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request=request, **params)
        # Contract values the caller's access rule hides are masked on every list, the same way.
        page[self.items_attribute] = mask_rows(page[self.items_attribute], user=request.user)
        return page
