"""Refusing NUL characters in REST API requests (bodies and query strings).

PostgreSQL cannot store or compare a string holding a NUL (0x00) character, so one in any body or
query value would surface as a 500 from the first query that used it. It is refused up front as a
422 naming the field, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def _null_paths(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                yield (*path, key)
            yield from _null_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _null_paths(item, (*path, index))


class NullCharacterMiddleware:
    """Refuse an API request whose JSON body or query string holds a NUL character, naming the fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            paths = [("query", key) for key, values in request.GET.lists() if any("\x00" in v for v in [key, *values])]
            if request.content_type == "application/json" and (b"\\u0000" in request.body or b"\x00" in request.body):
                try:
                    data = json.loads(request.body)
                except ValueError:
                    data = None
                paths += [("body", *p) for p in _null_paths(data, ())]
            if paths:
                from tandem.api.problems import problem_response
                from tandem.core.errors import FieldError

                message = _("Null characters are not allowed.")
                return problem_response(
                    status=422,
                    kind="validation-error",
                    detail=_("Invalid request."),
                    errors=[FieldError(".".join(str(x) for x in p[1:]) or p[0], message) for p in paths],
                )
        return self.get_response(request)
