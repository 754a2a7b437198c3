"""The success plan page (outcomes, KPIs, milestones), its forms, and the account page's section."""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.scoping import Action, can, ensure, ensure_model
from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.forms import add_domain_errors
from tandem.accounts.models import Account
from tandem.accounts.selectors import accounts_visible
from tandem.core.errors import DomainError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.jobs.computations import computation_start
from tandem.success.charts import outcomes_by_month_chart
from tandem.success.documents import LANGUAGE_CODES, plan_document_html
from tandem.success.forms import (
    CompleteForm,
    MilestoneForm,
    OutcomeForm,
    PlanForm,
    ShareForm,
    TemplateApplyForm,
    TemplateSaveForm,
)
from tandem.success.models import DesiredOutcome, PlanShare, PlanTemplate, SuccessMilestone, SuccessPlan
from tandem.success.selectors import account_milestones, account_plan, outcomes_portfolio, plan_for, plan_shares
from tandem.success.services import milestone_complete, milestone_create, outcome_save, plan_save
from tandem.success.sharing import plan_share_create, plan_share_revoke, share_is_active, share_path
from tandem.success.templates_services import plan_template_apply, plan_template_delete, plan_template_from_plan


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
        "shares": [
            {"share": share, "active": share_is_active(share), "url": request.build_absolute_uri(share_path(share))}
            for share in plan_shares(account_id=account.pk)
        ],
    }
    if can_change:
        context |= {
            "share_form": forms.get("share_form") or ShareForm(account=account),
            "apply_form": forms.get("apply_form") or TemplateApplyForm(account=account),
            "template_form": (forms.get("template_form") or TemplateSaveForm())
            if can(request.user, Action.CHANGE, PlanTemplate())
            else None,
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


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def plan_of(request: AuthenticatedHttpRequest, plan_id: int) -> HttpResponse:
    """A plan by its own id (what a timeline entry links to): the account's plan page."""
    plan = get_visible_or_404(SuccessPlan.objects.only("id", "account_id"), user=request.user, pk=plan_id)
    return redirect("success:plan", plan.account_id)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def share_create(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account, user=request.user, pk=account_id)
    form = ShareForm(request.POST, account=account)
    if form.is_valid():
        try:
            share = plan_share_create(acting_user=request.user, account=account, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("The plan is shared with %(contact)s: copy the link below and send it to them.")
                % {"contact": share.contact},
            )
            return redirect(f"{reverse('success:plan', args=[account.pk])}#shares")
    return _page(request, account, status=400, share_form=form)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def share_revoke(request: AuthenticatedHttpRequest, share_id: int) -> HttpResponse:
    share = get_for_write(PlanShare.objects.select_related("plan", "contact"), user=request.user, pk=share_id)
    plan_share_revoke(acting_user=request.user, share=share)
    messages.success(request, _("The link no longer opens the plan."))
    return redirect(f"{reverse('success:plan', args=[share.plan.account_id])}#shares")


@login_required
@permission_required("accounts.view_account", raise_exception=True)
# A standalone document with its stylesheet inline (the same HTML WeasyPrint prints); no script.
@csp_update({"style-src": [UNSAFE_INLINE]})  # type: ignore[arg-type]  # django-csp types views without URL args
def plan_export(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The plan as the customer sees it: ``?format=html`` downloads the page, ``pdf`` prints it on a worker."""
    account = get_visible_or_404(Account.objects.select_related("csm_owner"), user=request.user, pk=account_id)
    language = request.GET.get("language") or translation.get_language()
    if language not in LANGUAGE_CODES:
        language = translation.get_language()
    if request.GET.get("format") == "pdf":
        row = computation_start(
            kind="success.plan_pdf",
            params={"account": account.pk, "language": language},
            requested_by=request.user,
        )
        title = _("Success plan of %(account)s") % {"account": account.name}
        return render(
            request,
            "success/export_pending.html",
            {"computation": row, "title": title, "account": account},
        )
    html = plan_document_html(account=account, language=language, for_pdf=False)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="success-plan-{account.pk}.html"'
    return response


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Outcomes and ROI across the accounts the reader sees: coverage, achievements, gaps, reported ROI."""
    today = timezone.localdate()
    data = outcomes_portfolio(accounts=accounts_visible(user=request.user), today=today)
    return render(
        request,
        "success/portfolio.html",
        {
            "data": data,
            # Nothing achieved or reached in a year: the numbers say it, an empty chart would not help.
            "charts": [outcomes_by_month_chart(data.months)] if any(a or r for _m, a, r in data.months) else [],
            "today": today,
        },
    )


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def template_apply(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    account = get_for_write(Account.objects.select_related("csm_owner"), user=request.user, pk=account_id)
    form = TemplateApplyForm(request.POST, account=account)
    if form.is_valid():
        template = form.cleaned_data["template"]
        try:
            added = plan_template_apply(acting_user=request.user, account=account, template=template)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("Started from the template “%(name)s”: %(n)s outcomes added.")
                % {"name": template.name, "n": len(added)},
            )
            return redirect("success:plan", account.pk)
    return _page(request, account, status=400, apply_form=form)


@login_required
@permission_required("accounts.change_account", raise_exception=True)
@require_POST
def template_save(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """Save this plan as a template (templates are configuration: managers)."""
    ensure_model(request.user, Action.CHANGE, PlanTemplate)
    account = get_for_write(Account, user=request.user, pk=account_id)
    form = TemplateSaveForm(request.POST)
    if form.is_valid():
        try:
            template = plan_template_from_plan(acting_user=request.user, account=account, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Saved as the template “%(name)s”.") % {"name": template.name})
            return redirect("success:templates")
    return _page(request, account, status=400, template_form=form)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
def templates_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    templates = PlanTemplate.objects.select_related("segment").order_by("name")
    context = {"templates": templates, "can_change": can(request.user, Action.CHANGE, PlanTemplate())}
    return render(request, "success/templates.html", context)


@login_required
@permission_required("accounts.view_account", raise_exception=True)
@require_POST
def template_delete(request: AuthenticatedHttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(PlanTemplate, pk=template_id)
    ensure(request.user, Action.CHANGE, template)
    plan_template_delete(acting_user=request.user, template=template)
    messages.success(request, _("Template deleted; the plans made from it stay as they are."))
    return redirect("success:templates")
