"""HTTP: the Segment-compatible tracking endpoints (/v1/...) and the Sources pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.ingest import selectors
from tandem.ingest.models import Source
from tandem.ingest.services import source_create, source_revoke, source_rotate
from tandem.ingest.tracking import tracking_response


@csrf_exempt
def track_call(request: AuthenticatedHttpRequest, call_type: str) -> HttpResponse:
    """POST /v1/{identify,group,track,page,screen,batch,import}: Segment's HTTP Tracking API.

    ``tandem serve`` answers these paths before Django (tandem.ingest.wsgi); this view serves them
    under any other WSGI server and in tests, with the same answers.
    """
    answer = tracking_response(
        call_type=call_type,
        method=request.method or "",
        raw=request.body if request.method == "POST" else b"",
        encoding=request.headers.get("Content-Encoding", ""),
        authorization=request.headers.get("Authorization"),
    )
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response[name] = value
    return response


def _may_manage(request: AuthenticatedHttpRequest) -> bool:
    return selectors.user_may_manage_sources(user=request.user)


@never_cache  # shows a new write key once
@login_required
@require_http_methods(["GET", "POST"])
def source_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sources with their counters; admins and CS managers create one (its key is shown once)."""
    new_key: str | None = None
    new_source: Source | None = None
    error: str | None = None
    status = 200
    if request.method == "POST":
        if not _may_manage(request):
            raise PermissionDenied
        try:
            new_source, new_key = source_create(acting_user=request.user, name=request.POST.get("name", ""))
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
def source_rotate_view(request: AuthenticatedHttpRequest, source_id: int) -> HttpResponse:
    if not _may_manage(request):
        raise PermissionDenied
    source = get_object_or_404(Source, pk=source_id)
    key = source_rotate(acting_user=request.user, source=source)
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
def source_revoke_view(request: AuthenticatedHttpRequest, source_id: int) -> HttpResponse:
    if not _may_manage(request):
        raise PermissionDenied
    source = source_revoke(acting_user=request.user, source=get_object_or_404(Source, pk=source_id))
    messages.success(request, _("The write key of %(name)s was revoked.") % {"name": source.name})
    return redirect("ingest:sources")


@login_required
def event_catalog(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every event name and property key that has arrived, with first/last seen and volume."""
    return render(request, "ingest/events.html", {"catalog": selectors.event_catalog()})
