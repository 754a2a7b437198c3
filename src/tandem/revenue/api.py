"""/api/v1/revenue, /api/v1/retention and /api/v1/opportunities: thin wrappers over selectors/services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from tandem.access.masking import mask_rows
from tandem.access.shortcuts import (
    HIDDEN_NOTE,
    MaskedDecimal,
    ensure_company_figures,
    ensure_created_in_scope,
    get_for_write,
    get_visible_or_404,
)
from tandem.api.auth import require_perm
from tandem.api.pagination import PageQuery
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.opportunities.models import OpportunityKind, OpportunitySource, Stage
from tandem.subscriptions.models import Product
from tandem.subscriptions.services import SubscriptionItemInput

if TYPE_CHECKING:
    from tandem.revenue.engine import PeriodSummary

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
    by: RevenueGroup | None = None
    granularity: Granularity = "month"


# What revenue_summary accepts (revenue/selectors.py GROUP_FIELDS and GRANULARITIES).
RevenueGroup = Literal["tier", "csm", "am", "cohort", "currency"]
Granularity = Literal["month", "quarter", "year"]


def _summary(s: PeriodSummary) -> dict:
    return {name: getattr(s, name) for name in SummaryOut.model_fields if name != "group"}


@router.get("/summary", response={200: RevenueOut, **PROBLEM_RESPONSES})
def revenue_summary_endpoint(request: AuthenticatedHttpRequest, filters: Query[RevenueQuery]) -> dict:
    """MRR movements, logo churn, gross revenue churn, GRR and NRR (docs/revenue.md)."""
    ensure_company_figures(request.user)
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
def revenue_cohorts(request: AuthenticatedHttpRequest) -> list[dict]:
    """Quarterly start cohorts with logo and net revenue retention at each quarter end."""
    ensure_company_figures(request.user)
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
    survivors: list[Annotated[int, Field(ge=0, le=10**9)]] = Field(
        ..., min_length=2, max_length=200, description="Customers left at the start and after each period."
    )
    periods: int = Field(5, ge=1, le=120, description="How many periods to project.")
    discount_rate: float = Field(0.10, ge=0, le=1)


class FitOut(Schema):
    alpha: float
    beta: float
    log_likelihood: float
    homogeneous: bool
    projected_survival: list[float]
    derl: float


@router.post("/retention/fit", response={200: FitOut, **PROBLEM_RESPONSES})
def retention_fit(request: AuthenticatedHttpRequest, payload: FitIn) -> dict:
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
    amount: MaskedDecimal = Field(..., description="Expected ARR; " + HIDDEN_NOTE)
    current_arr: MaskedDecimal = Field(..., description="ARR of the renewing term; " + HIDDEN_NOTE)
    close_date: dt.date
    closed_on: dt.date | None
    outcome: str
    churn_reason_id: int | None
    subscription_id: int | None
    next_subscription_id: int | None
    source: str
    source_ref: str


class OpportunityIn(Schema):
    account_id: Id
    kind: OpportunityKind
    amount: Decimal = Field(..., ge=0, le=Decimal("99999999999999.99"))
    close_date: dt.date
    name: str = Field("", max_length=200)
    stage: Stage = Stage.QUALIFY
    owner_id: Id | None = None
    source: OpportunitySource = OpportunitySource.MANUAL
    source_ref: str = Field("", max_length=100)


class OpportunityListOut(Schema):
    count: int
    items: list[OpportunityOut]


class OpportunityFilters(PageQuery):
    kind: OpportunityKind | None = None
    stage: Stage | None = None
    owner_id: Id | None = None
    account_id: Id | None = None


@opportunities_router.get("", response={200: OpportunityListOut, **PROBLEM_RESPONSES})
def list_opportunities(request: AuthenticatedHttpRequest, filters: Query[OpportunityFilters]) -> dict:
    require_perm(request, "accounts.view_account")
    from tandem.opportunities.selectors import opportunity_list

    qs = opportunity_list(
        user=request.user,
        kind=filters.kind,
        stage=filters.stage,
        owner_id=filters.owner_id,
        account_id=filters.account_id,
    )
    items = mask_rows(qs[filters.offset : filters.offset + filters.limit], user=request.user)
    return {"count": qs.count(), "items": items}


@opportunities_router.post("", response={201: OpportunityOut, **PROBLEM_RESPONSES})
def create_opportunity(request: AuthenticatedHttpRequest, payload: OpportunityIn) -> Status:
    require_perm(request, "accounts.change_account")
    from tandem.accounts.models import Account
    from tandem.opportunities.services import opportunity_create
    from tandem.users.models import User

    account = get_visible_or_404(Account, user=request.user, pk=payload.account_id)
    owner = get_object_or_404(User, pk=payload.owner_id) if payload.owner_id else None
    with transaction.atomic():
        opportunity = opportunity_create(
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
        )
        ensure_created_in_scope(request.user, opportunity)
    return Status(201, opportunity)


class StageIn(Schema):
    stage: Stage


@opportunities_router.post("/{opportunity_id}/stage", response={200: OpportunityOut, **PROBLEM_RESPONSES})
def move_opportunity_stage(request: AuthenticatedHttpRequest, opportunity_id: Id, payload: StageIn) -> object:
    require_perm(request, "accounts.change_account")
    from tandem.opportunities.models import Opportunity
    from tandem.opportunities.services import opportunity_move_stage

    opportunity = get_for_write(Opportunity, user=request.user, pk=opportunity_id)
    return opportunity_move_stage(acting_user=request.user, opportunity=opportunity, stage=payload.stage)


class RenewalLineIn(Schema):
    product_id: Id
    quantity: Decimal = Field(..., ge=0)
    unit_price: Decimal = Field(..., ge=0)


class RenewalCloseIn(Schema):
    churned: bool = False
    churn_reason_id: Id | None = None
    items: list[RenewalLineIn] | None = Field(
        None, description="Lines of the next term; omitted = the current term's lines unchanged."
    )


@opportunities_router.post("/{opportunity_id}/close-renewal", response={200: OpportunityOut, **PROBLEM_RESPONSES})
def close_renewal(request: AuthenticatedHttpRequest, opportunity_id: Id, payload: RenewalCloseIn) -> object:
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
        opportunity=get_for_write(Opportunity, user=request.user, pk=opportunity_id),
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
def forecast_endpoint(request: AuthenticatedHttpRequest, filters: Query[ForecastQuery]) -> list[dict]:
    """Quota, attainment and the cumulative forecast per account manager (team last, owner "")."""
    ensure_company_figures(request.user)
    from tandem.opportunities.selectors import forecast

    rows, team = forecast(period_start=filters.period_start, period_end=filters.period_end)
    return [{k: getattr(r, k) for k in ForecastRowOut.model_fields} for r in [*rows, team]]
