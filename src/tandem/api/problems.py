"""RFC 9457 problem details: every error the API returns has this one JSON shape.

``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}`` served as
``application/problem+json``. ``field`` is a dotted path into the request (``items.0.quantity``),
``non_field`` for an error about the whole object, ``body`` for an unreadable body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tandem.core.errors import DomainError, FieldError

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:tandem:problem:"


class ProblemFieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    """An RFC 9457 problem details object."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemFieldError] = []


def problem_response(
    *,
    status: int,
    kind: str,
    detail: str,
    errors: Iterable[FieldError] = (),
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body = {
        "type": TYPE_PREFIX + kind,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }
    response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_path(loc: Sequence[Any]) -> str:
    """``("body", "payload", "items", 0, "quantity")`` -> ``items.0.quantity``."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]  # the source and the name of the body parameter
    elif parts and parts[0] in {"query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [FieldError(_field_path(error.get("loc", ())), str(error.get("msg", ""))) for error in exc.errors]
    return problem_response(
        status=422,
        kind="validation-error",
        title=_("Invalid request"),
        detail=_("The request has invalid or missing fields."),
        errors=errors,
    )


def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    kind = {404: "not-found", 409: "conflict"}.get(exc.status, "invalid")
    return problem_response(status=exc.status, kind=kind, detail=exc.message, errors=exc.errors)


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(status=404, kind="not-found", detail=_("No such object."))


def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = str(exc) if str(exc) != "Unauthorized" else ""
    return problem_response(
        status=401,
        kind="unauthenticated",
        detail=message or _("Authentication required: an API token or a session."),
        headers={"WWW-Authenticate": 'Bearer realm="tandem"'},
    )


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # The only 400 ninja raises itself: a body that is not valid JSON.
        return problem_response(
            status=400,
            kind="malformed-request",
            detail=_("The request body is not valid JSON."),
            errors=[FieldError("body", str(exc))],
        )
    if exc.status_code == 403:
        detail = str(exc) if str(exc) != "Forbidden" else _("You may not do this.")
        return problem_response(status=403, kind="forbidden", detail=detail)
    return problem_response(status=exc.status_code, kind="http-error", detail=str(exc))


def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # Raised by the access rules (tandem.access.scoping.ensure) with a message naming the object.
    return problem_response(status=403, kind="forbidden", detail=str(exc) or _("You may not do this."))


def install_problem_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default error bodies with problem details."""
    api.exception_handler(PermissionDenied)(_permission_denied)
    # The decorator form of add_exception_handler: that one's annotation would have each handler
    # accept an exception class as well as an instance, though ninja only ever passes instances.
    api.exception_handler(ValidationError)(_validation_error)
    api.exception_handler(DomainError)(_domain_error)
    api.exception_handler(Http404)(_not_found)
    api.exception_handler(AuthenticationError)(_authentication_error)
    api.exception_handler(HttpError)(_http_error)


# Documented on every operation that can fail this way.
PROBLEM_RESPONSES: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


def api_path_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a URL under /api/ that no endpoint matches, in the API's problem format."""
    return problem_response(
        status=404, kind="not-found", detail=_("No API endpoint at %(path)s.") % {"path": request.path}
    )
