"""REST endpoints for health scores and churn risk, and for setting up scorecards (managers)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from tandem.access.scoping import Action, ensure_model, restrict
from tandem.access.shortcuts import get_visible_or_404
from tandem.accounts.models import Tier
from tandem.api.auth import require_perm
from tandem.api.pagination import MAX_LIMIT, PageQuery
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.health.models import Band, HealthScoreCurrent, MissingPolicy, Scorecard, ScorecardMeasure, ScoringMethod
from tandem.health.services import scorecard_create, scorecard_measure_add, scorecard_measure_remove
from tandem.metrics.models import MetricDefinition
from tandem.risk.models import AccountRisk
from tandem.users.models import User

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
    measures: list[dict] = Field(
        ..., description="Each measure: id, metric (key), group, weight, method, poor_value, good_value."
    )


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


class MeasureOut(Schema):
    id: int
    metric: str
    group: str
    weight: float
    method: str
    poor_value: float | None
    good_value: float | None


class MeasureIn(Schema):
    metric: str = Field(..., max_length=60, description="The metric's key (GET /metrics/definitions).")
    group: str = Field("", max_length=60)
    weight: float = Field(1.0, ge=0, le=1000)
    method: ScoringMethod = ScoringMethod.PERCENTILE
    poor_value: float | None = Field(None, description="Thresholds: the value that scores 0.")
    good_value: float | None = Field(None, description="Thresholds: the value that scores 100.")


class ScorecardIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = ""
    segment: Tier | None = Field(None, description="Score only this tier's accounts; null for every account.")
    is_primary: bool = Field(False, description="Use it as the health score (the previous primary one stops being).")
    good_threshold: float = Field(65.0, ge=0, le=100)
    poor_threshold: float = Field(40.0, ge=0, le=100)
    missing_policy: MissingPolicy = MissingPolicy.NEUTRAL
    measures: list[MeasureIn] = Field([], max_length=100)


def _measure_out(m: ScorecardMeasure) -> MeasureOut:
    return MeasureOut(
        id=m.pk,
        metric=m.metric.key,
        group=m.group,
        weight=m.weight,
        method=m.method,
        poor_value=m.poor_value,
        good_value=m.good_value,
    )


def _scorecard_out(card: Scorecard) -> ScorecardOut:
    return ScorecardOut(
        id=card.pk,
        name=card.name,
        segment=card.segment,
        is_primary=card.is_primary,
        measures=[_measure_out(m).dict() for m in card.measures.all()],
    )


def _scorecards() -> QuerySet[Scorecard]:
    ordered = ScorecardMeasure.objects.select_related("metric").order_by("group", "id")
    return Scorecard.objects.prefetch_related(Prefetch("measures", queryset=ordered))


def _metric(key: str, *, field: str) -> MetricDefinition:
    metric = MetricDefinition.objects.filter(key=key, is_active=True).first()
    if metric is None:
        raise DomainError(
            "Unknown metric.", [FieldError(field, f"No active metric has the key {key!r} (GET /metrics/definitions).")]
        )
    return metric


def _add_measure(card: Scorecard, payload: MeasureIn, *, user: User, field: str) -> ScorecardMeasure:
    data = payload.dict()
    data["metric"] = _metric(payload.metric, field=f"{field}.metric")
    try:
        return scorecard_measure_add(acting_user=user, scorecard=card, **data)
    except DomainError as exc:  # name the measure the error is in
        exc.errors = [FieldError(f"{field}.{e.field}", e.message) for e in exc.errors]
        raise


@router.get(
    "/scorecards", response={200: list[ScorecardOut], **PROBLEM_RESPONSES}, summary="Scorecards and their measures"
)
def list_scorecards(request: HttpRequest) -> list[ScorecardOut]:
    require_perm(request, "accounts.view_account")
    return [_scorecard_out(c) for c in _scorecards()]


@router.post("/scorecards", response={201: ScorecardOut, **PROBLEM_RESPONSES}, summary="Create a scorecard")
def create_scorecard(request: AuthenticatedHttpRequest, payload: ScorecardIn) -> Status:
    """A scorecard with its measures, in one transaction: an error in any measure saves nothing."""
    ensure_model(request.user, Action.CHANGE, Scorecard)  # configuration: CS managers and admins
    data = payload.dict(exclude={"measures"})
    data["segment"] = data["segment"] or ""
    with transaction.atomic():
        card = scorecard_create(acting_user=request.user, **data)
        for index, measure in enumerate(payload.measures):
            _add_measure(card, measure, user=request.user, field=f"measures.{index}")
    return Status(201, _scorecard_out(_scorecards().get(pk=card.pk)))


@router.post(
    "/scorecards/{scorecard_id}/measures",
    response={201: MeasureOut, **PROBLEM_RESPONSES},
    summary="Add a measure to a scorecard",
)
def add_measure(request: AuthenticatedHttpRequest, scorecard_id: Id, payload: MeasureIn) -> Status:
    ensure_model(request.user, Action.CHANGE, Scorecard)
    card = get_object_or_404(Scorecard, pk=scorecard_id)
    measure = _add_measure(card, payload, user=request.user, field="body")
    return Status(201, _measure_out(measure))


@router.delete(
    "/scorecards/{scorecard_id}/measures/{measure_id}",
    response={204: None, **PROBLEM_RESPONSES},
    summary="Remove a measure from a scorecard",
)
def remove_measure(request: AuthenticatedHttpRequest, scorecard_id: Id, measure_id: Id) -> Status:
    ensure_model(request.user, Action.CHANGE, Scorecard)
    measure = get_object_or_404(ScorecardMeasure, pk=measure_id, scorecard_id=scorecard_id)
    scorecard_measure_remove(acting_user=request.user, measure=measure)
    return Status(204, None)
