"""/api/v1/accounts/{id}/success-plan: the plan with its outcomes' KPIs and milestones, and its writes.

Reading needs the right to see the account; writing, the right to change it (the same services
as the plan page: ``tandem.success.services``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from tandem.access.shortcuts import get_for_write, get_visible_or_404
from tandem.accounts.models import Account, Contact
from tandem.api.auth import require_perm
from tandem.api.problems import PROBLEM_RESPONSES
from tandem.api.refs import Id, resolve
from tandem.core.errors import DomainError, FieldError
from tandem.core.http import AuthenticatedHttpRequest
from tandem.metrics.models import MetricDefinition
from tandem.success.models import DesiredOutcome, PlanShare, SuccessMilestone
from tandem.success.selectors import PlanView, account_plan, plan_shares
from tandem.success.services import milestone_complete, milestone_create, outcome_save, plan_save
from tandem.success.sharing import plan_share_create, plan_share_revoke, share_is_active, share_path
from tandem.users.models import User

router = Router(tags=["success plans"])

ServiceModelIn = Literal["", "high_touch", "low_touch", "tech_touch"]
KpiKindIn = Literal["metric", "reported"]
OutcomeStatusIn = Literal["open", "achieved", "dropped"]


class MilestoneOut(Schema):
    id: int
    title: str
    due_date: dt.date
    owner: int | None = Field(None, alias="owner_id")
    outcome: int | None = Field(None, alias="outcome_id")
    metric: str | None = Field(None, description="The key of the metric that completes it, if any.")
    threshold: float | None
    completed_at: dt.datetime | None
    reached_value: float | None = Field(None, description="The metric's value when it completed itself.")
    evidence: str

    @staticmethod
    def resolve_metric(obj: SuccessMilestone) -> str | None:
        return obj.metric.key if obj.metric is not None else None


class OutcomeOut(Schema):
    id: int
    title: str
    kpi_kind: KpiKindIn
    metric: str | None = None
    unit: str
    baseline: float | None
    target: float
    reported: float | None
    current: float | None = Field(None, description="The metric's latest value, or the reported figure.")
    progress: float | None = Field(None, description="0-1 from the baseline (or 0) to the target.")
    target_date: dt.date | None
    status: OutcomeStatusIn
    achieved_on: dt.date | None
    milestones: list[MilestoneOut]


class PlanOut(Schema):
    account: int
    sponsor: int | None
    service_model: str
    cadence_days: int | None
    experience: str
    outcomes: list[OutcomeOut]
    other_milestones: list[MilestoneOut]
    milestones_reached: int
    milestones_total: int
    success_gaps: int = Field(..., description="Open milestones past their date.")


class PlanIn(Schema):
    sponsor: Id | None = Field(None, description="A contact of this account.")
    service_model: ServiceModelIn = ""
    cadence_days: int | None = Field(None, ge=1, le=366)
    experience: str = Field("", max_length=5000)


class OutcomeIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    kpi_kind: KpiKindIn = "metric"
    metric: str | None = Field(None, description="A metric's key; required when kpi_kind is metric.")
    unit: str = Field("", max_length=40)
    baseline: float | None = None
    target: float
    reported: float | None = None
    target_date: dt.date | None = None
    status: OutcomeStatusIn = "open"


class MilestoneIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    due_date: dt.date
    owner: Id | None = None
    outcome: Id | None = Field(None, description="An outcome of this account's plan.")
    metric: str | None = Field(None, description="With threshold: completes itself when the metric reaches it.")
    threshold: float | None = None


class CompleteIn(Schema):
    evidence: str = Field("", max_length=2000)


def _plan_out(account: Account, view: PlanView) -> dict:
    plan = view.plan
    return {
        "account": account.pk,
        "sponsor": plan.sponsor_id if plan else None,
        "service_model": plan.service_model if plan else "",
        "cadence_days": plan.cadence_days if plan else None,
        "experience": plan.experience if plan else "",
        "outcomes": [
            {
                **{
                    f: getattr(o.outcome, f)
                    for f in (
                        "id",
                        "title",
                        "kpi_kind",
                        "unit",
                        "baseline",
                        "target",
                        "reported",
                        "target_date",
                        "status",
                        "achieved_on",
                    )
                },
                "metric": o.outcome.metric.key if o.outcome.metric else None,
                "current": o.current,
                "progress": o.progress,
                "milestones": o.milestones,
            }
            for o in view.outcomes
        ],
        "other_milestones": view.unlinked,
        "milestones_reached": view.reached,
        "milestones_total": view.total,
        "success_gaps": view.overdue,
    }


def _metric(key: str | None, *, field: str) -> MetricDefinition | None:
    if not key:
        return None
    metric = MetricDefinition.objects.filter(key=key).first()
    if metric is None:
        raise DomainError(
            _("Unknown reference."), [FieldError(field, _("No metric with key %(key)s.") % {"key": key})], status=422
        )
    return metric


def _read(request: AuthenticatedHttpRequest, account_id: int) -> dict:
    account = get_visible_or_404(Account.objects.all(), user=request.user, pk=account_id)
    return _plan_out(account, account_plan(account_id=account.pk, today=timezone.localdate()))


@router.get(
    "/{account_id}/success-plan", response={200: PlanOut, **PROBLEM_RESPONSES}, summary="Get an account's success plan"
)
def get_success_plan(request: AuthenticatedHttpRequest, account_id: Id) -> dict:
    require_perm(request, "accounts.view_account")
    return _read(request, account_id)


@router.put(
    "/{account_id}/success-plan",
    response={200: PlanOut, **PROBLEM_RESPONSES},
    summary="Set the sponsor and the experience agreed",
)
def set_success_plan(request: AuthenticatedHttpRequest, account_id: Id, payload: PlanIn) -> dict:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    plan_save(
        acting_user=request.user,
        account=account,
        sponsor=resolve(Contact, payload.sponsor, field="sponsor"),
        service_model=payload.service_model,
        cadence_days=payload.cadence_days,
        experience=payload.experience,
    )
    return _read(request, account_id)


@router.post(
    "/{account_id}/success-plan/outcomes", response={201: PlanOut, **PROBLEM_RESPONSES}, summary="Add a desired outcome"
)
def add_success_outcome(request: AuthenticatedHttpRequest, account_id: Id, payload: OutcomeIn) -> Status:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    with transaction.atomic():
        outcome_save(
            acting_user=request.user,
            account=account,
            **{**payload.dict(), "metric": _metric(payload.metric, field="metric")},
        )
    return Status(201, _read(request, account_id))


@router.put(
    "/{account_id}/success-plan/outcomes/{outcome_id}",
    response={200: PlanOut, **PROBLEM_RESPONSES},
    summary="Change a desired outcome",
)
def change_success_outcome(
    request: AuthenticatedHttpRequest, account_id: Id, outcome_id: Id, payload: OutcomeIn
) -> dict:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    outcome = get_for_write(DesiredOutcome.objects.filter(plan__account=account), user=request.user, pk=outcome_id)
    outcome_save(
        acting_user=request.user,
        account=account,
        outcome=outcome,
        **{**payload.dict(), "metric": _metric(payload.metric, field="metric")},
    )
    return _read(request, account_id)


@router.post(
    "/{account_id}/success-plan/milestones", response={201: PlanOut, **PROBLEM_RESPONSES}, summary="Add a milestone"
)
def add_success_milestone(request: AuthenticatedHttpRequest, account_id: Id, payload: MilestoneIn) -> Status:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    outcome = None
    if payload.outcome is not None:
        outcome = DesiredOutcome.objects.filter(plan__account=account, pk=payload.outcome).first()
        if outcome is None:
            raise DomainError(
                _("Unknown reference."),
                [
                    FieldError(
                        "outcome", _("No outcome of this account's plan with id %(id)s.") % {"id": payload.outcome}
                    )
                ],
                status=422,
            )
    milestone_create(
        acting_user=request.user,
        account=account,
        title=payload.title,
        due_date=payload.due_date,
        owner=resolve(User, payload.owner, field="owner"),
        outcome=outcome,
        metric=_metric(payload.metric, field="metric"),
        threshold=payload.threshold,
    )
    return Status(201, _read(request, account_id))


@router.post(
    "/{account_id}/success-plan/milestones/{milestone_id}/complete",
    response={200: PlanOut, **PROBLEM_RESPONSES},
    summary="Mark a milestone reached, with its evidence",
)
def complete_success_milestone(
    request: AuthenticatedHttpRequest, account_id: Id, milestone_id: Id, payload: CompleteIn
) -> dict:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    milestone = get_for_write(SuccessMilestone.objects.filter(account=account), user=request.user, pk=milestone_id)
    milestone_complete(acting_user=request.user, milestone=milestone, evidence=payload.evidence)
    return _read(request, account_id)


class ShareOut(Schema):
    id: int
    contact: int = Field(..., alias="contact_id")
    language: str
    url: str = Field(..., description="The link to send; it opens the plan read-only without a login.")
    active: bool
    require_code: bool
    expires_at: dt.datetime
    created_at: dt.datetime
    created_by: int | None = Field(None, alias="created_by_id")
    revoked_at: dt.datetime | None
    views: int
    last_viewed_at: dt.datetime | None


class ShareIn(Schema):
    contact: Id = Field(..., description="A contact of this account, still at the company.")
    days: int = Field(30, description="How long the link opens, 1-180 days.")
    language: Literal["", "en", "vi", "ja", "fa", "zh-hans"] = Field(
        "", description="The page's language; empty: the contact's (or the company's)."
    )
    require_code: bool = Field(False, description="Also ask for a one-time code mailed to the contact.")


def _share_out(request: AuthenticatedHttpRequest, share: PlanShare) -> dict:
    return {
        **{
            f: getattr(share, f)
            for f in (
                "id",
                "contact_id",
                "language",
                "require_code",
                "expires_at",
                "created_at",
                "created_by_id",
                "revoked_at",
                "views",
                "last_viewed_at",
            )
        },
        "url": request.build_absolute_uri(share_path(share)),
        "active": share_is_active(share),
    }


@router.get(
    "/{account_id}/success-plan/shares",
    response={200: list[ShareOut], **PROBLEM_RESPONSES},
    summary="List the links the plan was shared by",
)
def list_success_plan_shares(request: AuthenticatedHttpRequest, account_id: Id) -> list[dict]:
    require_perm(request, "accounts.view_account")
    account = get_visible_or_404(Account.objects.all(), user=request.user, pk=account_id)
    return [_share_out(request, share) for share in plan_shares(account_id=account.pk)]


@router.post(
    "/{account_id}/success-plan/shares",
    response={201: ShareOut, **PROBLEM_RESPONSES},
    summary="Share the plan with a contact (a signed, expiring link)",
)
def share_success_plan(request: AuthenticatedHttpRequest, account_id: Id, payload: ShareIn) -> Status:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    contact = Contact.objects.filter(pk=payload.contact, account=account).first()
    if contact is None:
        raise DomainError(
            _("Unknown reference."),
            [FieldError("contact", _("No contact of this account with id %(id)s.") % {"id": payload.contact})],
            status=422,
        )
    share = plan_share_create(
        acting_user=request.user,
        account=account,
        contact=contact,
        days=payload.days,
        language=payload.language,
        require_code=payload.require_code,
    )
    return Status(201, _share_out(request, share))


@router.post(
    "/{account_id}/success-plan/shares/{share_id}/revoke",
    response={200: ShareOut, **PROBLEM_RESPONSES},
    summary="Revoke a shared link",
)
def revoke_success_plan_share(request: AuthenticatedHttpRequest, account_id: Id, share_id: Id) -> dict:
    require_perm(request, "accounts.change_account")
    account = get_for_write(Account, user=request.user, pk=account_id)
    share = get_for_write(PlanShare.objects.filter(plan__account=account), user=request.user, pk=share_id)
    return _share_out(request, plan_share_revoke(acting_user=request.user, share=share))
