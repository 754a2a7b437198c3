"""Pages: the renewal center, the expansion pipeline board, an opportunity, quotas and forecasts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tandem.access.masking import mask_rows, sees_contract_values
from tandem.access.scoping import Action, can, ensure_model, restrict
from tandem.access.shortcuts import ensure_company_figures, ensure_created_in_scope, get_for_write, get_visible_or_404
from tandem.accounts.models import Account
from tandem.core.errors import DomainError
from tandem.core.export import csv_response, filter_errors_response
from tandem.core.filters import MAX_ID, OwnerFilterForm, RenewalFilterForm, filter_values
from tandem.core.http import AuthenticatedHttpRequest
from tandem.opportunities.models import (
    EXPANSION_KINDS,
    RENEWAL_FORECAST_LABELS,
    ChurnReason,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    Quota,
    RenewalPolicy,
    Stage,
)
from tandem.opportunities.selectors import (
    RenewalCenter,
    forecast,
    pipeline_board,
    pipeline_board_page,
    quarter_bounds,
    renewal_center,
)
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

M = TypeVar("M", bound=models.Model)


def _int(value: str | None) -> int | None:
    """A posted id, or None when it is not one (a number out of range included)."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 1 <= number <= MAX_ID else None


def _by_pk(qs: QuerySet[M], value: str | None) -> M | None:
    """The row whose id a form sent as ``value``; None when it is missing, not a number or unknown."""
    pk = _int(value)
    return None if pk is None else qs.filter(pk=pk).first()


RENEWALS_PER_PAGE = 50
BOARD_PER_PAGE = 20


def _page(rows: Sequence[Any], number: str | None, *, per_page: int = RENEWALS_PER_PAGE) -> Page:
    """One page of an already loaded list (a number out of range gives the nearest page)."""
    return Paginator(rows, per_page).get_page(number)


def _names_an_id(value: str | None) -> bool:
    from tandem.accounts.forms import picker_names_id

    return picker_names_id(value or "")


def _new_opportunity_form(request: AuthenticatedHttpRequest) -> object:
    from tandem.opportunities.forms import OpportunityForm

    return OpportunityForm(
        accounts=Account.objects.none(), initial={"close_date": timezone.localdate() + dt.timedelta(days=60)}
    )


def _account_managers() -> list[User]:
    return list(User.objects.filter(groups__name=Role.ACCOUNT_MANAGER.group_name).order_by("username"))


def _renewal_center_for(
    request: AuthenticatedHttpRequest,
) -> tuple[RenewalFilterForm, RenewalCenter, int, int | None, bool]:
    """The renewal center as the page's filters ask for it (the page and its CSV export)."""
    filters = RenewalFilterForm(request.GET)
    values = filter_values(filters)
    horizon = values.get("horizon") or 180
    owner_id = values.get("owner")
    mine = request.GET.get("mine") == "1"  # the home page's "Renewals in 90 days" of the user's book
    center = renewal_center(
        today=timezone.localdate(),
        user=request.user,
        horizon_days=horizon,
        owner_id=owner_id,
        book_of=request.user if mine else None,
    )
    return filters, center, horizon, owner_id, mine


@login_required
@permission_required(VIEW, raise_exception=True)
def renewals(request: AuthenticatedHttpRequest) -> HttpResponse:
    filters, center, horizon, owner_id, mine = _renewal_center_for(request)
    context = {
        "mine": mine,
        "filters": filters,
        "center": center,
        "open_page": _page(center.open, request.GET.get("page")),
        "closed_page": _page(center.closed, request.GET.get("closed_page")),
        "horizon": horizon,
        "owner_id": owner_id,
        "owners": _account_managers(),
        "today": timezone.localdate(),
        "forecast_labels": [(k.value, RENEWAL_FORECAST_LABELS[k]) for k in ForecastCategory],
    }
    return render(request, "opportunities/renewals.html", context)


def _owner_name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


@login_required
@permission_required(VIEW, raise_exception=True)
def renewals_export(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The open renewals of the renewal center as CSV, with the page's filters, scope and masking."""
    filters, center, _horizon, _owner, _mine = _renewal_center_for(request)
    refused = filter_errors_response(filters)
    if refused is not None:
        return refused
    values = sees_contract_values(request.user)
    header = [
        _("Opportunity ID"),
        _("Account"),
        _("Account ID"),
        _("Tier"),
        _("Term ends"),
        _("Forecast"),
        *([_("Current ARR"), _("Expected ARR"), _("Change"), _("Currency")] if values else []),
        _("Health"),
        _("Churn risk (%)"),
        _("Owner"),
    ]
    currency = settings.TANDEM_REPORTING_CURRENCY
    rows = (
        [
            row.opportunity.pk,
            row.opportunity.account.name,
            row.opportunity.account_id,
            row.opportunity.account.get_tier_display(),
            row.opportunity.close_date,
            row.opportunity.forecast_label,
            *(
                [row.opportunity.current_arr, row.opportunity.amount, row.opportunity.arr_change, currency]
                if values
                else []
            ),
            round(row.health.score) if row.health is not None else None,
            round(row.risk.probability * 100, 1) if row.risk is not None else None,
            _owner_name(row.opportunity.owner),
        ]
        for row in center.open
    )
    # Translators: the first word of a downloaded file's name (renewals-2026-12-06.csv).
    return csv_response(name=_("renewals"), header=header, rows=rows)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def renewals_open(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_model(request.user, Action.CHANGE, RenewalPolicy)  # opens renewals for every account: managers
    created = renewals_open_due(acting_user=request.user, today=timezone.localdate())
    messages.success(request, _("Opened %(n)s renewal opportunities.") % {"n": len(created)})
    return redirect("opportunities:renewals")


@login_required
@permission_required(VIEW, raise_exception=True)
def detail(request: AuthenticatedHttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = get_visible_or_404(
        Opportunity.objects.select_related("account", "owner", "subscription", "next_subscription", "churn_reason"),
        user=request.user,
        pk=opportunity_id,
    )
    renewal_lines = []
    if opportunity.is_renewal and opportunity.is_open and opportunity.subscription is not None:
        renewal_lines = mask_rows(
            opportunity.subscription.items.select_related("product").order_by("id"), user=request.user
        )
    context = {
        "opportunity": opportunity,
        "can_change": can(request.user, Action.CHANGE, opportunity),
        "renewal_lines": renewal_lines,
        "reasons": ChurnReason.objects.filter(is_active=True),
        "stages": Stage.choices,
        "forecast_labels": [(k.value, RENEWAL_FORECAST_LABELS[k]) for k in ForecastCategory],
    }
    return render(request, "opportunities/detail.html", context)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def renewal_action(request: AuthenticatedHttpRequest, opportunity_id: int) -> HttpResponse:
    """Set the forecast, or close the renewal as renewed (lines as edited on the page) or churned."""
    opportunity = get_for_write(Opportunity, user=request.user, pk=opportunity_id, kind=OpportunityKind.RENEWAL)
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
            reason = _by_pk(ChurnReason.objects.all(), request.POST.get("churn_reason"))
            renewal_close(acting_user=request.user, opportunity=opportunity, churned=True, churn_reason=reason)
        else:
            raise Http404
    except (DomainError, InvalidOperation) as exc:
        messages.error(request, str(exc))
    return redirect("opportunities:detail", opportunity.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def pipeline(request: AuthenticatedHttpRequest) -> HttpResponse:
    filters = OwnerFilterForm(request.GET)
    owner_id = filter_values(filters).get("owner")
    today = timezone.localdate()
    # One page of cards per column (the same page in each); the column headers count them all.
    columns, board_page = pipeline_board_page(
        user=request.user,
        page=request.GET.get("page"),
        per_page=BOARD_PER_PAGE,
        owner_id=owner_id,
        closed_since=today - dt.timedelta(days=90),
    )
    context = {
        "board_page": board_page,
        "total": sum(c.total for c in columns),
        "filters": filters,
        "columns": columns,
        "owner_id": owner_id,
        "owners": _account_managers(),
        "stages": Stage.choices,
        "kinds": [(k.value, k.label) for k in EXPANSION_KINDS],
        "today": today,
        "new_form": _new_opportunity_form(request),
    }
    template = "opportunities/_board.html" if request.htmx else "opportunities/pipeline.html"
    return render(request, template, context)


@login_required
@permission_required(VIEW, raise_exception=True)
def pipeline_export(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every card of the expansion pipeline board as CSV (all pages), with its filters, scope and masking."""
    filters = OwnerFilterForm(request.GET)
    refused = filter_errors_response(filters)
    if refused is not None:
        return refused
    owner_id = filter_values(filters).get("owner")
    today = timezone.localdate()
    columns = pipeline_board(user=request.user, owner_id=owner_id, closed_since=today - dt.timedelta(days=90))
    values = sees_contract_values(request.user)
    header = [
        _("Opportunity ID"),
        _("Name"),
        _("Account"),
        _("Account ID"),
        _("Kind"),
        _("Stage"),
        *([_("Amount"), _("Currency")] if values else []),
        _("Probability (%)"),
        _("Close date"),
        _("Closed on"),
        _("Owner"),
    ]
    currency = settings.TANDEM_REPORTING_CURRENCY
    rows = (
        [
            o.pk,
            o.name,
            o.account.name,
            o.account_id,
            o.get_kind_display(),
            column.label,
            *([o.amount, currency] if values else []),
            o.probability,
            o.close_date,
            o.closed_on,
            _owner_name(o.owner),
        ]
        for column in columns
        for o in column.opportunities
    )
    # Translators: the first word of a downloaded file's name (pipeline-2026-12-06.csv).
    return csv_response(name=_("pipeline"), header=header, rows=rows)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def move_stage(request: AuthenticatedHttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = get_for_write(Opportunity, user=request.user, pk=opportunity_id, kind__in=EXPANSION_KINDS)
    try:
        opportunity_move_stage(acting_user=request.user, opportunity=opportunity, stage=request.POST.get("stage", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return pipeline(_as_get(request))
    return redirect("opportunities:pipeline")


def _as_get(request: AuthenticatedHttpRequest) -> AuthenticatedHttpRequest:
    request.method = "GET"
    query = request.GET.copy()
    owner = request.POST.get("owner")
    if owner:
        query["owner"] = owner
    # django-stubs types GET as the immutable QueryDict a request arrives with; this one is rebuilt.
    request.GET = query  # type: ignore[assignment]
    return request


@login_required
@permission_required(CHANGE, raise_exception=True)
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open an expansion opportunity; the account is chosen with the account picker (``?account=`` preselects)."""
    from tandem.accounts.forms import add_domain_errors
    from tandem.opportunities.forms import OpportunityForm

    ensure_model(request.user, Action.CHANGE, Opportunity)  # refused (403) for who changes no commercial record
    accounts = restrict(Account.objects.all(), user=request.user, action=Action.CHANGE)
    if request.method == "POST":
        form = OpportunityForm(request.POST, accounts=restrict(Account.objects.all(), user=request.user))
        if not form.is_valid() and "account" in form.errors and _names_an_id(request.POST.get("account")):
            raise Http404  # an account this person cannot see, named by its id: as for any out-of-book object
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                with transaction.atomic():
                    opportunity = opportunity_create(acting_user=request.user, **data)
                    ensure_created_in_scope(request.user, opportunity)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Opportunity created."))
                return redirect("opportunities:detail", opportunity.pk)
        return render(request, "opportunities/new.html", {"form": form}, status=400)
    initial: dict[str, object] = {"close_date": timezone.localdate() + dt.timedelta(days=60)}
    preselected = _by_pk(accounts, request.GET.get("account"))
    if preselected is not None:
        initial["account"] = preselected
    return render(request, "opportunities/new.html", {"form": OpportunityForm(initial=initial, accounts=accounts)})


@login_required
@permission_required(VIEW, raise_exception=True)
def forecast_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_company_figures(request.user)
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
def quota_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_model(request.user, Action.CHANGE, Quota)  # quotas are set by managers
    owner = _by_pk(User.objects.all(), request.POST.get("owner"))
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
def account_section(request: AuthenticatedHttpRequest, account_id: int) -> HttpResponse:
    """The account page's renewals-and-expansion list, fetched after the page has loaded."""
    from tandem.opportunities.selectors import account_opportunities

    get_visible_or_404(Account.objects.only("id", "csm_owner_id", "am_owner_id"), user=request.user, pk=account_id)
    opportunities = mask_rows(account_opportunities(user=request.user, account_id=account_id), user=request.user)
    context = {
        "open": [o for o in opportunities if o.is_open],
        "last_renewal": next((o for o in reversed(opportunities) if o.is_renewal and not o.is_open), None),
    }
    return render(request, "opportunities/_account_opportunities.html", context)
