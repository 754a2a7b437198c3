"""/api/v1/revenue, /api/v1/retention and /api/v1/opportunities: thin wrappers over selectors/services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from tandem.api.auth import require_perm
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.core.errors import DomainError, FieldError
from tandem.subscriptions.models import Product
from tandem.subscriptions.services import SubscriptionItemInput

router = Router(tags=["revenue"])
opportunities_router = Router(tags=["opportunities"])


class SummaryOut(Schema):
    start: dt.date
    end: dt.date
    opening_mrr: Decimal
    new: Decimal
    expansion: Decimal
    reactivation: Decimal
    contraction: Decimal
    churn: Decimal
    closing_mrr: Decimal
    opening_customers: int
    closing_customers: int
    churned_customers: int
    logo_churn_rate: Decimal | None
    gross_revenue_churn_rate: Decimal | None
    grr: Decimal | None
    nrr: Decimal | None


class GroupOut(SummaryOut):
    group: str


class RevenueOut(Schema):
    currency: str
    rates_on: dt.date
    total: SummaryOut
    periods: list[SummaryOut]
    groups: list[GroupOut]


class RevenueQuery(Schema):
    date_from: dt.date
    date_to: dt.date
    by: str | None = None
    granularity: str = "month"


def _summary(s) -> dict:
    return {name: getattr(s, name) for name in SummaryOut.model_fields if name != "group"}


@router.get("/summary", response={200: RevenueOut, **PROBLEM_RESPONSES})
def revenue_summary_endpoint(request: HttpRequest, filters: Query[RevenueQuery]) -> dict:
    """MRR movements, logo churn, gross revenue churn, GRR and NRR (docs/revenue.md)."""
    require_perm(request, "accounts.view_account")
    from tandem.revenue.selectors import revenue_summary

    report = revenue_summary(
        start=filters.date_from, end=filters.date_to, by=filters.by, granularity=filters.granularity
    )
    return {
        "currency": report.currency,
        "rates_on": report.rates_on,
        "total": _summary(report.total),
        "periods": [_summary(p) for p in report.periods],
        "groups": [{"group": name, **_summary(s)} for name, s in report.groups],
    }


class CohortOut(Schema):
    label: str
    start: dt.date
    size: int
    starting_mrr: Decimal
    logos: list[int]
    logo_retention: list[float]
    revenue_retention: list[float]


@router.get("/cohorts", response={200: list[CohortOut], **PROBLEM_RESPONSES})
def revenue_cohorts(request: HttpRequest) -> list[dict]:
    """Quarterly start cohorts with logo and net revenue retention at each quarter end."""
    require_perm(request, "accounts.view_account")
    from tandem.revenue.selectors import cohort_table

    return [
        {
            **{k: getattr(r, k) for k in ("label", "start", "size", "starting_mrr", "logos")},
            "logo_retention": r.logo_retention,
            "revenue_retention": r.revenue_retention,
        }
        for r in cohort_table(today=timezone.localdate())
    ]


class FitIn(Schema):
    survivors: list[int]
    periods: int = 5
    discount_rate: float = 0.10


class FitOut(Schema):
    alpha: float
    beta: float
    log_likelihood: float
    homogeneous: bool
    projected_survival: list[float]
    derl: float


@router.post("/retention/fit", response={200: FitOut, **PROBLEM_RESPONSES})
def retention_fit(request: HttpRequest, payload: FitIn) -> dict:
    """Fit the shifted-beta-geometric model to one cohort's survivor counts."""
    from tandem.core.errors import DomainError, FieldError
    from tandem.revenue.sbg import FitError, fit_sbg

    try:
        fit = fit_sbg([payload.survivors])
    except FitError as exc:
        raise DomainError(str(exc), [FieldError("survivors", str(exc))]) from None
    k = len(payload.survivors) - 1
    return {
        "alpha": fit.alpha,
        "beta": fit.beta,
        "log_likelihood": fit.log_likelihood,
        "homogeneous": fit.homogeneous,
        "projected_survival": [fit.survival(t) for t in range(k + 1, k + 1 + payload.periods)],
        "derl": fit.derl(discount_rate=payload.discount_rate, renewals=k),
    }


# --- opportunities ------------------------------------------------------------------------------


class OpportunityOut(Schema):
    id: int
    account_id: int
    kind: str
    name: str
    owner_id: int | None
    stage: str
    probability: Decimal
    forecast_category: str
    amount: Decimal
    current_arr: Decimal
    close_date: dt.date
    closed_on: dt.date | None
    outcome: str
    churn_reason_id: int | None
    subscription_id: int | None
    next_subscription_id: int | None
    source: str
    source_ref: str


class OpportunityIn(Schema):
    account_id: int
    kind: str
    amount: Decimal
    close_date: dt.date
    name: str = ""
    stage: str = "qualify"
    owner_id: int | None = None
    source: str = "manual"
    source_ref: str = ""


class OpportunityListOut(Schema):
    count: int
    items: list[OpportunityOut]


class OpportunityFilters(Schema):
    kind: str | None = None
    stage: str | None = None
    owner_id: int | None = None
    account_id: int | None = None
    limit: int = 50
    offset: int = 0


@opportunities_router.get("", response={200: OpportunityListOut, **PROBLEM_RESPONSES})
def list_opportunities(request: HttpRequest, filters: Query[OpportunityFilters]) -> dict:
    require_perm(request, "accounts.view_account")
    from tandem.opportunities.models import Opportunity

    qs = Opportunity.objects.order_by("close_date", "id")
    for name in ("kind", "stage", "owner_id", "account_id"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    limit = max(1, min(filters.limit, 500))
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + limit])}


@opportunities_router.post("", response={201: OpportunityOut, **PROBLEM_RESPONSES})
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Status:
    require_perm(request, "accounts.change_account")
    from tandem.accounts.models import Account
    from tandem.opportunities.services import opportunity_create
    from tandem.users.models import User

    account = get_object_or_404(Account, pk=payload.account_id)
    owner = get_object_or_404(User, pk=payload.owner_id) if payload.owner_id else None
    return Status(
        201,
        opportunity_create(
            acting_user=request.user,
            account=account,
            kind=payload.kind,
            amount=payload.amount,
            close_date=payload.close_date,
            name=payload.name,
            stage=payload.stage,
            owner=owner,
            source=payload.source,
            source_ref=payload.source_ref,
        ),
    )


class StageIn(Schema):
    stage: str


@opportunities_router.post("/{opportunity_id}/stage", response={200: OpportunityOut, **PROBLEM_RESPONSES})
def move_opportunity_stage(request: HttpRequest, opportunity_id: int, payload: StageIn) -> object:
    require_perm(request, "accounts.change_account")
    from tandem.opportunities.models import Opportunity
    from tandem.opportunities.services import opportunity_move_stage

    return opportunity_move_stage(
        acting_user=request.user, opportunity=get_object_or_404(Opportunity, pk=opportunity_id), stage=payload.stage
    )


class RenewalLineIn(Schema):
    product_id: int
    quantity: Decimal = Field(..., ge=0)
    unit_price: Decimal = Field(..., ge=0)


class RenewalCloseIn(Schema):
    churned: bool = False
    churn_reason_id: int | None = None
    items: list[RenewalLineIn] | None = Field(
        None, description="Lines of the next term; omitted = the current term's lines unchanged."
    )


@opportunities_router.post("/{opportunity_id}/close-renewal", response={200: OpportunityOut, **PROBLEM_RESPONSES})
def close_renewal(request: HttpRequest, opportunity_id: int, payload: RenewalCloseIn) -> object:
    """Renewed into the next term (with ``items``, or the same lines) or churned (with a churn reason)."""
    require_perm(request, "accounts.change_account")
    from tandem.opportunities.models import ChurnReason, Opportunity
    from tandem.opportunities.services import renewal_close

    reason = ChurnReason.objects.filter(pk=payload.churn_reason_id).first() if payload.churn_reason_id else None
    items = None
    if payload.items is not None:
        products = {p.pk: p for p in Product.objects.filter(pk__in=[line.product_id for line in payload.items])}
        unknown = [f"items.{i}.product_id" for i, line in enumerate(payload.items) if line.product_id not in products]
        if unknown:
            raise DomainError(_("Invalid renewal."), [FieldError(f, _("No such product.")) for f in unknown])
        items = [
            SubscriptionItemInput(product=products[line.product_id], quantity=line.quantity, unit_price=line.unit_price)
            for line in payload.items
        ]
    return renewal_close(
        acting_user=request.user,
        opportunity=get_object_or_404(Opportunity, pk=opportunity_id),
        churned=payload.churned,
        churn_reason=reason,
        items=items,
    )


class ForecastRowOut(Schema):
    owner_id: int | None
    owner: str
    quota: Decimal
    closed_won: Decimal
    attainment: Decimal | None
    forecast_commit: Decimal
    forecast_best_case: Decimal
    forecast_pipeline: Decimal


class ForecastQuery(Schema):
    period_start: dt.date
    period_end: dt.date


@opportunities_router.get("/forecast", response={200: list[ForecastRowOut], **PROBLEM_RESPONSES})
def forecast_endpoint(request: HttpRequest, filters: Query[ForecastQuery]) -> list[dict]:
    """Quota, attainment and the cumulative forecast per account manager (team last, owner "")."""
    require_perm(request, "accounts.view_account")
    from tandem.opportunities.selectors import forecast

    rows, team = forecast(period_start=filters.period_start, period_end=filters.period_end)
    return [{k: getattr(r, k) for k in ForecastRowOut.model_fields} for r in [*rows, team]]
