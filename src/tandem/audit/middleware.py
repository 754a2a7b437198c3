"""Open an audit context for each request: its path (web app, API, admin) and its user."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tandem.audit.context import audit_context
from tandem.audit.models import AuditVia


def request_via(path: str) -> str:
    if path.startswith("/api/") or path.startswith("/v1/"):
        return AuditVia.API
    if path.startswith("/admin/"):
        return AuditVia.ADMIN
    return AuditVia.UI


class AuditContextMiddleware:
    """Runs after AuthenticationMiddleware; the actor is read from ``request.user`` when an entry is written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(via=request_via(request.path), request=request):
            return self.get_response(request)
