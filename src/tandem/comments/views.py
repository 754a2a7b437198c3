"""The comment thread of a record: loaded into its page by htmx, posted to without leaving it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.access.shortcuts import get_visible_or_404
from tandem.comments import selectors, services
from tandem.comments.models import Comment
from tandem.comments.targets import TARGETS
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest


def _target(request: AuthenticatedHttpRequest, kind: str, object_id: int):  # type: ignore[no-untyped-def]
    spec = TARGETS.get(kind)
    if spec is None:
        raise Http404
    return get_visible_or_404(spec.model, user=request.user, pk=object_id)


def _render(
    request: AuthenticatedHttpRequest,
    kind: str,
    target: object,
    *,
    errors: list[str] | None = None,
    body: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "kind": kind,
        "target": target,
        "threads": selectors.comment_threads(target=target),  # type: ignore[arg-type]
        "may_comment": services.may_comment(request.user, target),  # type: ignore[arg-type]
        "errors": errors or [],
        "body": body,
    }
    return render(request, "comments/_thread.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def thread(request: AuthenticatedHttpRequest, kind: str, object_id: int) -> HttpResponse:
    target = _target(request, kind, object_id)
    if request.method == "GET":
        return _render(request, kind, target)
    parent_id = request.POST.get("parent") or None
    parent = None
    if parent_id:
        parent = Comment.objects.filter(pk=parent_id if parent_id.isdigit() else 0).first()
    body = request.POST.get("body", "")
    try:
        services.comment_post(acting_user=request.user, target=target, body=body, parent=parent)
    except DomainError as exc:
        return _render(request, kind, target, errors=[e.message for e in exc.errors], body=body, status=400)
    return _render(request, kind, target)


@login_required
@require_POST
def delete(request: AuthenticatedHttpRequest, comment_id: int) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.select_related("content_type"), pk=comment_id)
    services.ensure_may_delete(request.user, comment)  # before the record: refused alike inside and outside
    kind = next(
        name
        for name, t in TARGETS.items()
        if t.label.lower() == f"{comment.content_type.app_label}.{comment.content_type.model}"
    )
    target = _target(request, kind, comment.object_id)
    services.comment_delete(acting_user=request.user, comment=comment)
    return _render(request, kind, target)


@login_required
@require_GET
def people(request: AuthenticatedHttpRequest, kind: str, object_id: int) -> JsonResponse:
    """Colleagues to offer after "@": only those who may see the record."""
    target = _target(request, kind, object_id)
    users = selectors.mention_candidates(target=target, prefix=request.GET.get("q", ""), exclude=request.user)
    return JsonResponse(
        {"people": [{"username": u.get_username(), "name": u.get_full_name() or u.get_username()} for u in users]}
    )
