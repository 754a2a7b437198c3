"""The success plan page (outcomes, KPIs, milestones), its forms, and the account page's section."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.forms import add_domain_errors
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.success.forms import CompleteForm, MilestoneForm, OutcomeForm, PlanForm
from tandem.success.models import DesiredOutcome, SuccessMilestone
from tandem.success.selectors import account_milestones, account_plan, plan_for
from tandem.success.services import milestone_complete, milestone_create, outcome_save, plan_save


def _render_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "account_id": account_id,
        "view": account_plan(account_id=account_id, today=today),
        "milestones": list(account_milestones(account_id=account_id)),
        "can_change": can(request.user, Action.CHANGE, Account(pk=account_id)),
        "today": today,
    }
    return render(request, "success/_milestones.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def account_milestones_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    get_visible_or_404(Account.objects.only("id", "csm_owner_id", "am_owner_id"), user=request.user, pk=account_id)
    return _render_section(request, account_id)


def _plan_initial(account: Account) -> dict[str, Any]:
    plan = plan_for(account)
    return {
        "sponsor": plan.sponsor_id,
        "service_model": plan.service_model,
        "cadence_days": plan.cadence_days,
        "experience": plan.experience,
    }


def _page(request: AuthenticatedHttpRequest, account: Account, *, status: int = 200, **forms: Any) -> HttpResponse:
    today = timezone.localdate()
    can_change = can(request.user, Action.CHANGE, account)
    context: dict[str, Any] = {
        "account": account,
        "view": account_plan(account_id=account.pk, today=today),
        "can_change": can_change,
        "today": today,
    }
    if can_change:
        context |= {
            "plan_form": forms.get("plan_form") or PlanForm(account=account, initial=_plan_initial(account)),
            "outcome_form": forms.get("outcome_form") or OutcomeForm(),
            "milestone_form": forms.get("milestone_form")
            or MilestoneForm(account=account, initial={"owner": account.csm_owner_id}),
            "complete_form": CompleteForm(),
        }
    return render(request, "success/plan.html", context, status=status)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def plan_page(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_visible_or_404(
        Account.objects.select_related("csm_owner", "am_owner"), user=request.user, pk=account_id
    )
    return _page(request, account)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def plan_edit(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    form = PlanForm(request.POST, account=account)
    if form.is_valid():
        try:
            plan_save(acting_user=request.user, account=account, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Success plan saved."))
            return redirect("success:plan", account.pk)
    return _page(request, account, status=400, plan_form=form)


def _outcome_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in OutcomeForm.base_fields}


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def outcome_add(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            outcome_save(acting_user=request.user, account=account, **_outcome_fields(form.cleaned_data))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Outcome added."))
            return redirect("success:plan", account.pk)
    return _page(request, account, status=400, outcome_form=form)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def outcome_edit(request: AuthenticatedHttpRequest, outcome_id: int) -> HttpResponse:
    """Change an outcome when the customer's goals change; the history keeps what it said before."""
    outcome = get_visible_or_404(
        DesiredOutcome.objects.select_related("plan__account", "metric"), user=request.user, pk=outcome_id
    )
    account = outcome.plan.account
    if request.method == "POST":
        outcome = get_for_write(
            DesiredOutcome.objects.select_related("plan__account", "metric"), user=request.user, pk=outcome_id
        )
        form = OutcomeForm(request.POST)
        if form.is_valid():
            try:
                outcome_save(
                    acting_user=request.user, account=account, outcome=outcome, **_outcome_fields(form.cleaned_data)
                )
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Outcome saved."))
                return redirect("success:plan", account.pk)
        status = 400
    else:
        initial = {name: getattr(outcome, name) for name in OutcomeForm.base_fields if name != "metric"}
        form = OutcomeForm(initial={**initial, "metric": outcome.metric_id})
        status = 200
    context = {
        "account": account,
        "outcome": outcome,
        "form": form,
        "can_change": can(request.user, Action.CHANGE, account),
    }
    return render(request, "success/outcome_edit.html", context, status=status)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def milestone_add(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    form = MilestoneForm(request.POST, account=account)
    if form.is_valid():
        try:
            milestone_create(acting_user=request.user, account=account, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Milestone added."))
            return redirect("success:plan", account.pk)
    return _page(request, account, status=400, milestone_form=form)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def milestone_complete_view(request: AuthenticatedHttpRequest, milestone_id: int) -> HttpResponse:
    """Mark a milestone reached by hand, with its evidence (from the plan page or the account page)."""
    milestone = get_for_write(SuccessMilestone, user=request.user, pk=milestone_id)
    form = CompleteForm(request.POST)
    evidence = form.cleaned_data["evidence"] if form.is_valid() else ""
    milestone_complete(acting_user=request.user, milestone=milestone, evidence=evidence)
    if request.htmx:
        return _render_section(request, milestone.account_id)
    messages.success(request, _("Milestone reached."))
    return redirect("success:plan", milestone.account_id)
