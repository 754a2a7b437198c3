"""Segments: the list, one segment (its members and who joined and left), and its editor with the
rules' condition builder."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can, ensure, ensure_model
from tandem.accounts.selectors import accounts_visible
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks.builder import RuleBuilder
from tandem.segments.forms import SegmentForm
from tandem.segments.models import Segment
from tandem.segments.selectors import segment_history, segment_list, segment_members
from tandem.segments.services import segment_delete, segment_save


def _refresh() -> dict[str, str]:
    return {
        "hx-post": reverse("segments:builder"),
        "hx-trigger": "change",
        "hx-target": "#segment-builder",
        "hx-swap": "outerHTML",
        "hx-include": "#segment-form",
    }


def _builder(**kwargs: Any) -> RuleBuilder:
    return RuleBuilder(refresh=_refresh(), segments=False, conditions_only=True, **kwargs)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def segments_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {"segments": segment_list(), "can_change": can(request.user, Action.CHANGE, Segment())}
    return render(request, "segments/list.html", context)


def _editor(
    request: AuthenticatedHttpRequest,
    segment: Segment | None,
    form: SegmentForm,
    builder: RuleBuilder,
    status: int = 200,
) -> HttpResponse:
    context = {"segment": segment, "form": form, "builder": builder}
    return render(request, "segments/edit.html", context, status=status)


def _save(request: AuthenticatedHttpRequest, segment: Segment | None) -> HttpResponse:
    form = SegmentForm(request.POST)
    builder = _builder(data=request.POST, action="save")
    if form.is_valid() and builder.is_valid():
        _params, conditions = builder.cleaned()
        try:
            saved = segment_save(acting_user=request.user, segment=segment, conditions=conditions, **form.cleaned_data)
        except DomainError as exc:
            for error in exc.errors:
                if error.field in form.fields:
                    form.add_error(error.field, error.message)
                else:
                    builder.errors.append(error.message)
        else:
            messages.success(request, _("Segment saved: %(n)s accounts today.") % {"n": saved.members})
            return redirect("segments:detail", saved.pk)
    return _editor(request, segment, form, builder, status=400)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def segment_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_model(request.user, Action.CHANGE, Segment)  # segments are configuration: managers
    if request.method == "POST":
        return _save(request, None)
    builder = _builder(conditions=[{"field": "tier", "op": "in", "value": []}])
    return _editor(request, None, SegmentForm(), builder)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def segment_edit(request: AuthenticatedHttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    ensure(request.user, Action.CHANGE, segment)
    if request.method == "POST":
        return _save(request, segment)
    form = SegmentForm(
        initial={"name": segment.name, "description": segment.description, "service_model": segment.service_model}
    )
    return _editor(request, segment, form, _builder(conditions=segment.conditions))


@login_required
@require_POST
def segment_builder(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The condition rows again after adding or removing one or changing a row's field (htmx)."""
    ensure_model(request.user, Action.CHANGE, Segment)
    builder = _builder(data=request.POST, action=str(request.POST.get("action") or "refresh"))
    return render(request, "segments/_builder.html", {"builder": builder})


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def segment_detail(request: AuthenticatedHttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    visible = accounts_visible(user=request.user)
    members = segment_members(segment=segment, accounts=visible).select_related("csm_owner").order_by("name", "pk")
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    _params, conditions = _builder(conditions=segment.conditions).summary()
    context = {
        "segment": segment,
        "page": page,
        "conditions": conditions,
        "history": segment_history(segment=segment, accounts=visible),
        "can_change": can(request.user, Action.CHANGE, segment),
    }
    return render(request, "segments/detail.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
@require_POST
def segment_remove(request: AuthenticatedHttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    ensure(request.user, Action.CHANGE, segment)
    try:
        segment_delete(acting_user=request.user, segment=segment)
    except DomainError as exc:
        messages.error(request, " ".join(e.message for e in exc.errors) or exc.message)
        return redirect("segments:detail", segment.pk)
    messages.success(request, _("Segment deleted."))
    return redirect("segments:list")
