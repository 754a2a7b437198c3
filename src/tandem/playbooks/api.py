"""REST endpoints for rules (with a preview), CTAs and the work queue."""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tandem.api.auth import require_perm
from tandem.api.pagination import Pagination
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve, resolve_required
from tandem.playbooks import selectors, services
from tandem.playbooks.models import CallToAction, CtaOutcome, CtaPriority, CtaType, Playbook, Rule, StepRole, WorkPool
from tandem.playbooks.triggers import TRIGGERS

router = Router(tags=["Playbooks"])


class RuleIn(Schema):
    name: str = Field(..., max_length=200)
    description: str = ""
    trigger: str = Field(..., description="One of the keys of GET /playbooks/triggers.")
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
    status: str | None = Field(None, description="open, snoozed or closed")
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
def list_triggers(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"key": k, "label": str(s.label), "defaults": s.defaults} for k, s in TRIGGERS.items()]


@router.get("/rules", response={200: list[RuleOut], **PROBLEM_RESPONSES}, summary="List rules")
@paginate(Pagination)
def list_rules(request: HttpRequest) -> QuerySet[Rule]:
    require_perm(request, "accounts.view_account")
    return Rule.objects.order_by("name", "id")


@router.post("/rules", response={201: RuleOut, **PROBLEM_RESPONSES}, summary="Create a rule")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status:
    require_perm(request, "accounts.delete_account")  # CS managers and admins
    return Status(201, services.rule_save(acting_user=request.user, **_rule_data(payload)))


@router.post(
    "/rules/preview", response={200: PreviewOut, **PROBLEM_RESPONSES}, summary="Which accounts a rule matches now"
)
def preview_rule(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    require_perm(request, "accounts.view_account")
    preview = services.rule_preview(
        trigger=payload.trigger, params=payload.params, conditions=payload.conditions, today=timezone.localdate()
    )
    return {"count": preview.count, "accounts": preview.accounts, "unavailable": preview.unavailable}


@router.put("/rules/{rule_id}", response={200: RuleOut, **PROBLEM_RESPONSES}, summary="Replace a rule")
def update_rule(request: HttpRequest, rule_id: Id, payload: RuleIn) -> Rule:
    require_perm(request, "accounts.delete_account")
    return services.rule_save(acting_user=request.user, rule=get_object_or_404(Rule, pk=rule_id), **_rule_data(payload))


@router.get("/ctas", response={200: list[CtaOut], **PROBLEM_RESPONSES}, summary="List calls to action")
@paginate(Pagination)
def list_ctas(request: HttpRequest, filters: Query[CtaFilter]) -> QuerySet[CallToAction]:
    require_perm(request, "accounts.view_account")
    qs = CallToAction.objects.all()
    for name in ("status", "owner", "account"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{f"{name}_id" if name != "status" else name: value})
    return qs.order_by("due_date", "id")


@router.get("/my-day", response={200: list[CtaOut], **PROBLEM_RESPONSES}, summary="My open CTAs in queue order")
def my_day(request: HttpRequest) -> list[CallToAction]:
    return selectors.my_day(user=request.user, today=timezone.localdate())


@router.post("/ctas/{cta_id}/close", response={200: CtaOut, **PROBLEM_RESPONSES}, summary="Close a CTA")
def close_cta(request: HttpRequest, cta_id: Id, payload: CloseIn) -> CallToAction:
    require_perm(request, "accounts.change_account")
    cta = get_object_or_404(CallToAction, pk=cta_id)
    return services.cta_close(acting_user=request.user, cta=cta, outcome=payload.outcome, reason=payload.reason)
