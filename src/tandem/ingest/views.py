"""HTTP: the Segment-compatible tracking endpoints (/v1/...) and the Sources pages."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tandem.core.errors import DomainError
from tandem.ingest import selectors
from tandem.ingest.ingestor import background, start_background_ingestor
from tandem.ingest.models import Source
from tandem.ingest.services import source_create, source_revoke, source_rotate
from tandem.ingest.tracking import CallError, accept_call

PROBLEM_TYPE = "urn:tandem:problem:"
CALL_TYPES = frozenset({"identify", "group", "track", "page", "screen", "batch", "import"})


def _json(status: int, body: dict[str, Any], content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=content_type)


def _problem(
    status: int, code: str, message: str, *, field: str = "", extra: dict[str, Any] | None = None
) -> HttpResponse:
    """A problem-details body that Segment clients can read too (they look at code and message)."""
    body = {
        "type": PROBLEM_TYPE + code.replace("_", "-"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "errors": [{"field": field, "message": message}] if field else [],
        "success": False,
        "code": code,
        "message": message,
        **(extra or {}),
    }
    response = _json(status, body, "application/problem+json")
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="tandem tracking"'
    return response


@csrf_exempt
def track_call(request: HttpRequest, call_type: str) -> HttpResponse:
    """POST /v1/{identify,group,track,page,screen,batch,import}: Segment's HTTP Tracking API."""
    if call_type not in CALL_TYPES:
        return _problem(404, "not_found", _("No tracking endpoint /v1/%(call)s.") % {"call": call_type[:50]})
    if request.method != "POST":
        return _problem(405, "method_not_allowed", _("Use POST."))
    try:
        result = accept_call(
            call_type="batch" if call_type == "import" else call_type,
            raw=request.body,
            encoding=request.headers.get("Content-Encoding", "").strip().lower(),
            authorization=request.headers.get("Authorization"),
        )
    except CallError as exc:
        return _problem(exc.status, exc.code, exc.message, field=exc.field)
    rejected = [r.as_dict() for r in result.rejected]
    if result.accepted:
        start_background_ingestor()
        background.wake()
        return _json(200, {"success": True, "accepted": result.accepted, "rejected": rejected})
    first = result.rejected[0]
    return _problem(
        400,
        "invalid_message",
        _("No message was accepted: %(reason)s") % {"reason": f"{first.field or 'message'} {first.reason}"},
        field=first.field or "body",
        extra={"accepted": 0, "rejected": rejected},
    )


def _may_manage(request: HttpRequest) -> bool:
    return selectors.user_may_manage_sources(user=request.user)


@never_cache  # shows a new write key once
@login_required
@require_http_methods(["GET", "POST"])
def source_list(request: HttpRequest) -> HttpResponse:
    """Sources with their counters; admins and CS managers create one (its key is shown once)."""
    new_key: str | None = None
    new_source: Source | None = None
    error: str | None = None
    status = 200
    if request.method == "POST":
        if not _may_manage(request):
            raise PermissionDenied
        try:
            new_source, new_key = source_create(name=request.POST.get("name", ""))
        except DomainError as exc:
            error, status = exc.message, 400
    context = {
        "overview": selectors.sources_overview(),
        "may_manage": _may_manage(request),
        "new_key": new_key,
        "new_source": new_source,
        "error": error,
        "tracking_host": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "ingest/sources.html", context, status=status)


@never_cache
@login_required
@require_POST
def source_rotate_view(request: HttpRequest, source_id: int) -> HttpResponse:
    if not _may_manage(request):
        raise PermissionDenied
    source = get_object_or_404(Source, pk=source_id)
    key = source_rotate(source=source)
    context = {
        "overview": selectors.sources_overview(),
        "may_manage": True,
        "new_key": key,
        "new_source": source,
        "tracking_host": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "ingest/sources.html", context)


@login_required
@require_POST
def source_revoke_view(request: HttpRequest, source_id: int) -> HttpResponse:
    if not _may_manage(request):
        raise PermissionDenied
    source = source_revoke(source=get_object_or_404(Source, pk=source_id))
    messages.success(request, _("The write key of %(name)s was revoked.") % {"name": source.name})
    return redirect("ingest:sources")


@login_required
def event_catalog(request: HttpRequest) -> HttpResponse:
    """Every event name and property key that has arrived, with first/last seen and volume."""
    return render(request, "ingest/events.html", {"catalog": selectors.event_catalog()})
