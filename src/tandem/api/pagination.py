"""``?limit=&offset=`` pagination answering ``{"count", "items"}``."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

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
