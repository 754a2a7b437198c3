"""The success-plan section of the account page (loaded by htmx) and completing a milestone."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.models import Account
from tandem.core.http import AuthenticatedHttpRequest
from tandem.success.models import SuccessMilestone
from tandem.success.selectors import account_milestones
from tandem.success.services import milestone_complete


def _render_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    context = {
        "account_id": account_id,
        "milestones": list(account_milestones(account_id=account_id)),
        "can_change": can(request.user, Action.CHANGE, Account(pk=account_id)),
        "today": timezone.localdate(),
    }
    return render(request, "success/_milestones.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_milestones_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    get_visible_or_404(Account.objects.only("id", "csm_owner_id", "am_owner_id"), user=request.user, pk=account_id)
    return _render_section(request, account_id)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def milestone_complete_view(request: AuthenticatedHttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_for_write(SuccessMilestone, user=request.user, pk=milestone_id)
    milestone_complete(acting_user=request.user, milestone=milestone)
    return _render_section(request, milestone.account_id)
