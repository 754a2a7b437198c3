"""REST endpoints for health scores and churn risk (read-only)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tandem.access.scoping import restrict
from tandem.access.shortcuts import get_visible_or_404
from tandem.api.auth import require_perm
from tandem.api.pagination import MAX_LIMIT, PageQuery
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id
from tandem.health.models import Band, HealthScoreCurrent, Scorecard
from tandem.risk.models import AccountRisk

router = Router(tags=["Health and risk"])


class ScoreOut(Schema):
    scorecard: str
    score: float
    band: str
    as_of: dt.date
    change_7d: float | None
    change_30d: float | None
    reasons: list[dict]


class RiskOut(Schema):
    probability: float
    as_of: dt.date
    reasons: list[str]


class AccountHealthOut(Schema):
    account_id: int
    scores: list[ScoreOut]
    risk: RiskOut | None


class CurrentRow(Schema):
    account_id: int
    health: float | None
    band: str | None
    churn_risk: float | None


class CurrentFilter(PageQuery):
    band: Band | None = None
    min_risk: float | None = Field(None, ge=0, le=1, description="Lowest churn-risk probability, 0-1.")
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="Page size.")


class ScorecardOut(Schema):
    id: int
    name: str
    segment: str
    is_primary: bool
    measures: list[dict]


@router.get(
    "/accounts/{account_id}",
    response={200: AccountHealthOut, **PROBLEM_RESPONSES},
    summary="Health and churn risk of an account",
)
def get_account_health(request: HttpRequest, account_id: Id) -> AccountHealthOut:
    require_perm(request, "accounts.view_account")
    from tandem.accounts.models import Account

    get_visible_or_404(Account.objects.only("id", "csm_owner_id", "am_owner_id"), user=request.user, pk=account_id)
    scores = [
        ScoreOut(
            scorecard=s.scorecard.name,
            score=s.score,
            band=s.band,
            as_of=s.as_of,
            change_7d=s.change_7d,
            change_30d=s.change_30d,
            reasons=s.reasons,
        )
        for s in HealthScoreCurrent.objects.filter(account_id=account_id)
        .select_related("scorecard")
        .order_by("-scorecard__is_primary", "scorecard__name")
    ]
    risk = AccountRisk.objects.filter(account_id=account_id).first()
    return AccountHealthOut(
        account_id=account_id,
        scores=scores,
        risk=None
        if risk is None
        else RiskOut(probability=risk.probability, as_of=risk.as_of, reasons=risk.reason_texts()),
    )


@router.get(
    "/current",
    response={200: list[CurrentRow], **PROBLEM_RESPONSES},
    summary="Current health and risk of many accounts",
)
def list_current(request: HttpRequest, filters: Query[CurrentFilter]) -> list[CurrentRow]:
    """Accounts with a current score, riskiest first; filter by health ``band`` or ``min_risk``."""
    require_perm(request, "accounts.view_account")
    from tandem.accounts.models import Account

    qs = (
        restrict(Account.objects.all(), user=request.user)
        .filter(health__isnull=False)
        .select_related("health", "risk")
        .only("id", "health__score", "health__band", "risk__probability")
    )
    if filters.band:
        qs = qs.filter(health__band=filters.band)
    if filters.min_risk is not None:
        qs = qs.filter(risk__probability__gte=filters.min_risk)
    qs = qs.order_by("-risk__probability", "id")[filters.offset : filters.offset + filters.limit]
    return [
        CurrentRow(
            account_id=a.id,
            health=a.health.score,
            band=a.health.band,
            churn_risk=getattr(getattr(a, "risk", None), "probability", None),
        )
        for a in qs
    ]


@router.get(
    "/scorecards", response={200: list[ScorecardOut], **PROBLEM_RESPONSES}, summary="Scorecards and their measures"
)
def list_scorecards(request: HttpRequest) -> list[ScorecardOut]:
    require_perm(request, "accounts.view_account")
    return [
        ScorecardOut(
            id=c.pk,
            name=c.name,
            segment=c.segment,
            is_primary=c.is_primary,
            measures=[
                {
                    "metric": m.metric.key,
                    "group": m.group,
                    "weight": m.weight,
                    "method": m.method,
                    "poor_value": m.poor_value,
                    "good_value": m.good_value,
                }
                for m in c.measures.select_related("metric")
            ],
        )
        for c in Scorecard.objects.prefetch_related("measures")
    ]
