"""REST endpoints for rules (with a preview), CTAs and the work queue."""

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import QuerySet
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tandem.access.scoping import Action, ensure_model, restrict
from tandem.access.shortcuts import get_for_write
from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve, resolve_required
from tandem.core.http import AuthenticatedHttpRequest
from tandem.playbooks import selectors, services
from tandem.playbooks.models import (
    CallToAction,
    CtaOutcome,
    CtaPriority,
    CtaStatus,
    CtaType,
    Playbook,
    Rule,
    StepRole,
    WorkPool,
)
from tandem.playbooks.triggers import TRIGGERS

router = Router(tags=["Playbooks"])


# The registered triggers (playbooks/triggers.py), so that the schema offers exactly those.
if TYPE_CHECKING:
    TriggerKey = str
else:
    TriggerKey = Literal[tuple(TRIGGERS)]


class RuleIn(Schema):
    name: str = Field(..., max_length=200)
    description: str = ""
    trigger: TriggerKey = Field(..., description="One of the keys of GET /playbooks/triggers.")
    params: dict[str, Any] = {}
    conditions: list[dict[str, Any]] = Field(
        [],
        description='e.g. [{"field": "tier", "op": "in", "value": ["enterprise"]}, '
        '{"metric": "logins_30d", "op": "lt", "value": 5}]',
    )
    playbook: Id
    cta_type: CtaType = CtaType.RISK
    priority: CtaPriority = CtaPriority.MEDIUM
    owner_role: StepRole = StepRole.CSM
    pool: Id | None = None
    due_in_days: int = Field(7, ge=0, le=365)
    reopen_after_days: int = Field(30, ge=0, le=3650)
    is_active: bool = True


class RuleOut(Schema):
    id: int
    name: str
    description: str
    trigger: str
    params: dict[str, Any]
    conditions: list[dict[str, Any]]
    playbook: int = Field(..., alias="playbook_id")
    cta_type: str
    priority: int
    owner_role: str
    pool: int | None = Field(None, alias="pool_id")
    due_in_days: int
    reopen_after_days: int
    is_active: bool


class PreviewIn(Schema):
    trigger: str
    params: dict[str, Any] = {}
    conditions: list[dict[str, Any]] = []


class PreviewAccount(Schema):
    id: int
    name: str
    reason: str


class PreviewOut(Schema):
    count: int
    accounts: list[PreviewAccount]
    unavailable: str


class TriggerOut(Schema):
    key: str
    label: str
    defaults: dict[str, Any]


class CtaOut(Schema):
    id: int
    account: int = Field(..., alias="account_id")
    rule: int | None = Field(None, alias="rule_id")
    type: str
    priority: int
    title: str
    reason: str = Field(..., alias="reason_display", description="Why it opened, in the caller's language.")
    owner: int | None = Field(None, alias="owner_id")
    status: str
    opened_on: dt.date
    due_date: dt.date
    snoozed_until: dt.date | None
    outcome: str
    priority_score: float


class CtaFilter(Schema):
    status: CtaStatus | None = None
    owner: Id | None = None
    account: Id | None = None


class CloseIn(Schema):
    outcome: CtaOutcome
    reason: str = ""


def _rule_data(payload: RuleIn) -> dict[str, Any]:
    data = payload.dict()
    data["playbook"] = resolve_required(Playbook, payload.playbook, field="playbook")
    data["pool"] = resolve(WorkPool, payload.pool, field="pool")
    return data


@router.get("/triggers", response=list[TriggerOut], summary="List the triggers a rule can use")
def list_triggers(request: AuthenticatedHttpRequest) -> list[dict[str, Any]]:
    return [{"key": k, "label": str(s.label), "defaults": s.defaults} for k, s in TRIGGERS.items()]


@router.get("/rules", response={200: list[RuleOut], **PROBLEM_RESPONSES}, summary="List rules")
@paginate(Pagination)
def list_rules(request: AuthenticatedHttpRequest) -> QuerySet[Rule]:
    require_perm(request, "accounts.view_account")
    return Rule.objects.order_by("name", "id")


@router.post("/rules", response={201: RuleOut, **PROBLEM_RESPONSES}, summary="Create a rule")
def create_rule(request: AuthenticatedHttpRequest, payload: RuleIn) -> Status:
    ensure_model(request.user, Action.CHANGE, Rule)  # "manages configuration": CS managers and admins
    return Status(201, services.rule_save(acting_user=request.user, **_rule_data(payload)))


@router.post(
    "/rules/preview", response={200: PreviewOut, **PROBLEM_RESPONSES}, summary="Which accounts a rule matches now"
)
def preview_rule(request: AuthenticatedHttpRequest, payload: PreviewIn) -> dict[str, Any]:
    require_perm(request, "accounts.view_account")
    preview = services.rule_preview(
        trigger=payload.trigger, params=payload.params, conditions=payload.conditions, today=timezone.localdate()
    )
    return {"count": preview.count, "accounts": preview.accounts, "unavailable": preview.unavailable}


@router.put("/rules/{rule_id}", response={200: RuleOut, **PROBLEM_RESPONSES}, summary="Replace a rule")
def update_rule(request: AuthenticatedHttpRequest, rule_id: Id, payload: RuleIn) -> Rule:
    return services.rule_save(
        acting_user=request.user, rule=get_for_write(Rule, user=request.user, pk=rule_id), **_rule_data(payload)
    )


@router.get("/ctas", response={200: list[CtaOut], **PROBLEM_RESPONSES}, summary="List calls to action")
@paginate(Pagination)
def list_ctas(request: AuthenticatedHttpRequest, filters: Query[CtaFilter]) -> QuerySet[CallToAction]:
    require_perm(request, "accounts.view_account")
    qs = restrict(CallToAction.objects.all(), user=request.user)
    for name in ("status", "owner", "account"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{f"{name}_id" if name != "status" else name: value})
    return qs.order_by("due_date", "id")


@router.get("/my-day", response={200: list[CtaOut], **PROBLEM_RESPONSES}, summary="My open CTAs in queue order")
def my_day(request: AuthenticatedHttpRequest) -> list[CallToAction]:
    return selectors.my_day(user=request.user, today=timezone.localdate())


@router.post("/ctas/{cta_id}/close", response={200: CtaOut, **PROBLEM_RESPONSES}, summary="Close a CTA")
def close_cta(request: AuthenticatedHttpRequest, cta_id: Id, payload: CloseIn) -> CallToAction:
    require_perm(request, "accounts.change_account")
    cta = get_for_write(CallToAction, user=request.user, pk=cta_id)
    return services.cta_close(acting_user=request.user, cta=cta, outcome=payload.outcome, reason=payload.reason)
