"""Pages: the renewal center, the expansion pipeline board, an opportunity, quotas and forecasts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.opportunities.models import (
    EXPANSION_KINDS,
    RENEWAL_FORECAST_LABELS,
    ChurnReason,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    Stage,
)
from tandem.opportunities.selectors import forecast, pipeline_board, quarter_bounds, renewal_center
from tandem.opportunities.services import (
    opportunity_create,
    opportunity_move_stage,
    quota_set,
    renewal_close,
    renewal_lines_from_form,
    renewal_set_forecast,
    renewals_open_due,
)
from tandem.users.models import User
from tandem.users.roles import Role

# Opportunities are customer data: whoever may view / change accounts may view / change them (the role
# groups in users/roles.py grant account permissions, so no extra group sync is needed).
VIEW = "accounts.view_account"
CHANGE = "accounts.change_account"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _account_managers() -> list[User]:
    return list(User.objects.filter(groups__name=Role.ACCOUNT_MANAGER.group_name).order_by("username"))


@login_required
@permission_required(VIEW, raise_exception=True)
def renewals(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    horizon = _int(request.GET.get("horizon")) or 180
    owner_id = _int(request.GET.get("owner"))
    center = renewal_center(today=today, horizon_days=horizon, owner_id=owner_id)
    context = {
        "center": center,
        "horizon": horizon,
        "owner_id": owner_id,
        "owners": _account_managers(),
        "today": today,
        "forecast_labels": [(k.value, RENEWAL_FORECAST_LABELS[k]) for k in ForecastCategory],
    }
    return render(request, "opportunities/renewals.html", context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def renewals_open(request: HttpRequest) -> HttpResponse:
    created = renewals_open_due(acting_user=request.user, today=timezone.localdate())
    messages.success(request, _("Opened %(n)s renewal opportunities.") % {"n": len(created)})
    return redirect("opportunities:renewals")


@login_required
@permission_required(VIEW, raise_exception=True)
def detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = get_object_or_404(
        Opportunity.objects.select_related("account", "owner", "subscription", "next_subscription", "churn_reason"),
        pk=opportunity_id,
    )
    renewal_lines = []
    if opportunity.is_renewal and opportunity.is_open and opportunity.subscription_id:
        renewal_lines = list(opportunity.subscription.items.select_related("product").order_by("id"))
    context = {
        "opportunity": opportunity,
        "renewal_lines": renewal_lines,
        "reasons": ChurnReason.objects.filter(is_active=True),
        "stages": Stage.choices,
        "forecast_labels": [(k.value, RENEWAL_FORECAST_LABELS[k]) for k in ForecastCategory],
    }
    return render(request, "opportunities/detail.html", context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def renewal_action(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """Set the forecast, or close the renewal as renewed (lines as edited on the page) or churned."""
    opportunity = get_object_or_404(Opportunity, pk=opportunity_id, kind=OpportunityKind.RENEWAL)
    action = request.POST.get("action")
    try:
        if action == "forecast":
            amount = request.POST.get("amount")
            renewal_set_forecast(
                acting_user=request.user,
                opportunity=opportunity,
                forecast_category=request.POST.get("forecast_category", ""),
                amount=Decimal(amount) if amount else None,
            )
        elif action == "renew":
            renewal_close(
                acting_user=request.user,
                opportunity=opportunity,
                items=renewal_lines_from_form(opportunity=opportunity, data=request.POST),
            )
        elif action == "churn":
            reason = ChurnReason.objects.filter(pk=_int(request.POST.get("churn_reason"))).first()
            renewal_close(acting_user=request.user, opportunity=opportunity, churned=True, churn_reason=reason)
        else:
            raise Http404
    except (DomainError, InvalidOperation) as exc:
        messages.error(request, str(exc))
    return redirect("opportunities:detail", opportunity.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def pipeline(request: HttpRequest) -> HttpResponse:
    owner_id = _int(request.GET.get("owner"))
    today = timezone.localdate()
    columns = pipeline_board(owner_id=owner_id, closed_since=today - dt.timedelta(days=90))
    context = {
        "columns": columns,
        "owner_id": owner_id,
        "owners": _account_managers(),
        "stages": Stage.choices,
        "kinds": [(k.value, k.label) for k in EXPANSION_KINDS],
        "today": today,
    }
    template = "opportunities/_board.html" if request.htmx else "opportunities/pipeline.html"
    return render(request, template, context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def move_stage(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = get_object_or_404(Opportunity, pk=opportunity_id, kind__in=EXPANSION_KINDS)
    try:
        opportunity_move_stage(acting_user=request.user, opportunity=opportunity, stage=request.POST.get("stage", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return pipeline(_as_get(request))
    return redirect("opportunities:pipeline")


def _as_get(request: HttpRequest) -> HttpRequest:
    request.method = "GET"
    request.GET = request.GET.copy()
    owner = request.POST.get("owner")
    if owner:
        request.GET["owner"] = owner
    return request


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    account = Account.objects.filter(pk=_int(request.POST.get("account"))).first()
    if account is None:
        messages.error(request, _("No such account."))
        return redirect("opportunities:pipeline")
    try:
        opportunity = opportunity_create(
            acting_user=request.user,
            account=account,
            kind=request.POST.get("kind", ""),
            amount=Decimal(request.POST.get("amount") or "x"),
            close_date=dt.date.fromisoformat(request.POST.get("close_date", "")),
            name=request.POST.get("name", ""),
        )
    except (DomainError, InvalidOperation, ValueError) as exc:
        messages.error(request, str(exc) or _("Invalid opportunity."))
        return redirect(request.POST.get("next") or "opportunities:pipeline")
    messages.success(request, _("Opportunity created."))
    return redirect("opportunities:detail", opportunity.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def forecast_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        anchor = dt.date.fromisoformat(request.GET.get("quarter", "")) if request.GET.get("quarter") else today
    except ValueError:
        anchor = today
    start, end = quarter_bounds(anchor)
    quarters = []
    for back in range(-4, 2):
        year, month = divmod(quarter_bounds(today)[0].month - 1 + 3 * back, 12)
        quarters.append(quarter_bounds(dt.date(quarter_bounds(today)[0].year + year, month + 1, 1)))
    rows, team = forecast(period_start=start, period_end=end)
    context = {
        "rows": rows,
        "team": team,
        "start": start,
        "end": end,
        "quarters": quarters,
        "owners": _account_managers(),
        "charts": _forecast_chart(rows),
    }
    return render(request, "opportunities/forecast.html", context)


def _forecast_chart(rows: list) -> list:
    from tandem.revenue.charts import forecast_chart

    named = [r for r in rows if r.owner_id]
    return [forecast_chart(named)] if named else []


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def quota_save(request: HttpRequest) -> HttpResponse:
    owner = User.objects.filter(pk=_int(request.POST.get("owner"))).first()
    try:
        start = dt.date.fromisoformat(request.POST.get("period_start", ""))
        amount = Decimal(request.POST.get("amount") or "x")
        if owner is None:
            raise ValueError(_("Choose an account manager."))
        quota_set(
            acting_user=request.user,
            owner=owner,
            period_start=start,
            period_end=quarter_bounds(start)[1],
            amount=amount,
        )
        messages.success(request, _("Quota saved."))
    except (DomainError, InvalidOperation, ValueError) as exc:
        messages.error(request, str(exc) or _("Invalid quota."))
        start = timezone.localdate()
    return redirect(f"{request.path.rsplit('quota/', 1)[0]}?quarter={start.isoformat()}")


@login_required
@permission_required(VIEW, raise_exception=True)
def account_section(request: HttpRequest, account_id: int) -> HttpResponse:
    """The account page's renewals-and-expansion list, fetched after the page has loaded."""
    from tandem.opportunities.selectors import account_opportunities

    opportunities = account_opportunities(account_id=account_id)
    context = {
        "open": [o for o in opportunities if o.is_open],
        "last_renewal": next((o for o in reversed(opportunities) if o.is_renewal and not o.is_open), None),
    }
    return render(request, "opportunities/_account_opportunities.html", context)
