"""The audit log an admin searches, and the history shown on each object's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tandem.access.masking import sees_contract_values
from tandem.access.scoping import AccessDenied, Action, can
from tandem.audit.models import AuditEntry
from tandem.audit.registry import audited_models
from tandem.audit.selectors import audit_change_lines, audit_history_for_account, audit_history_for_object, audit_search
from tandem.core.http import AuthenticatedHttpRequest
from tandem.users.roles import Role, user_roles

PER_PAGE = 50
HISTORY_LIMIT = 100


@login_required
def audit_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every recorded change, searchable by person, kind of object, object, path and date (admins only)."""
    if Role.ADMIN not in user_roles(request.user):
        raise AccessDenied(_("Only admins read the audit log."))
    filterset = audit_search(filters=request.GET)
    invalid = filterset.is_bound and not filterset.is_valid()
    entries = AuditEntry.objects.none() if invalid else filterset.qs
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(entry, audit_change_lines(entry)) for entry in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"filter": filterset, "page": page, "rows": rows, "query": query.urlencode()},
        status=400 if invalid else 200,
    )


@login_required
def object_history(request: AuthenticatedHttpRequest, content_type_id: int, object_id: int) -> HttpResponse:
    """One object's history, for its page; 404 unless the reader may see the object."""
    try:
        content_type = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist:
        raise Http404 from None
    model = content_type.model_class()
    if model is None or model not in audited_models():
        raise Http404
    obj = model._default_manager.filter(pk=object_id).first()
    if obj is None or not can(request.user, Action.VIEW, obj):
        raise Http404
    if model._meta.label == "accounts.Account":
        entries = audit_history_for_account(account_id=obj.pk)
    else:
        entries = audit_history_for_object(obj=obj)
    hide = not sees_contract_values(request.user)
    rows = [(entry, audit_change_lines(entry, hide_contract_values=hide)) for entry in entries[:HISTORY_LIMIT]]
    return render(request, "audit/_history.html", {"rows": rows, "limit": HISTORY_LIMIT})
