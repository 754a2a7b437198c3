"""The success-plan section of the account page (loaded by htmx) and completing a milestone."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.success.models import SuccessMilestone
from tandem.success.selectors import account_milestones
from tandem.success.services import milestone_complete


def _render_section(request: HttpRequest, account_id: int) -> HttpResponse:
    context = {
        "account_id": account_id,
        "milestones": list(account_milestones(account_id=account_id)),
        "today": timezone.localdate(),
    }
    return render(request, "success/_milestones.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_milestones_section(request: HttpRequest, account_id: int) -> HttpResponse:
    return _render_section(request, account_id)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def milestone_complete_view(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(SuccessMilestone, pk=milestone_id)
    milestone_complete(acting_user=request.user, milestone=milestone)
    return _render_section(request, milestone.account_id)
