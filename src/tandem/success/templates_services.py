"""Success plan templates: saving an account's plan as one, applying one to an account, and the
daily step that gives a segment's template to its accounts without a plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_save, model_validate
from tandem.metrics.models import MetricDefinition
from tandem.success.models import DesiredOutcome, PlanTemplate, SuccessMilestone, SuccessPlan
from tandem.success.selectors import plan_for
from tandem.success.services import milestone_create, milestones_reach_by_metrics, outcome_save, plan_save
from tandem.users.models import User


@write_service
def plan_template_from_plan(
    *,
    acting_user: User | None,
    account: Account,
    name: str,
    segment: Any = None,
    auto_apply: bool = False,
    today: dt.date | None = None,
) -> PlanTemplate:
    """Save the account's plan (its open and achieved outcomes and their milestones) as a template,
    each date kept as days from ``today``."""
    today = today or timezone.localdate()
    plan = SuccessPlan.objects.filter(account=account).first()
    outcomes = (
        list(DesiredOutcome.objects.filter(plan=plan).exclude(status="dropped").select_related("metric"))
        if plan
        else []
    )
    if not outcomes:
        raise DomainError(
            _("The plan cannot be saved as a template."),
            [FieldError("name", _("The plan has no desired outcome yet."))],
        )
    index = {o.pk: i for i, o in enumerate(outcomes)}
    milestones = SuccessMilestone.objects.filter(account=account).select_related("metric").order_by("due_date", "id")
    template = PlanTemplate(
        name=name.strip(),
        segment=segment,
        auto_apply=auto_apply and segment is not None,
        service_model=plan.service_model if plan else "",
        cadence_days=plan.cadence_days if plan else None,
        experience=plan.experience if plan else "",
        outcomes=[
            {
                "title": o.title,
                "kpi_kind": o.kpi_kind,
                "metric": o.metric.key if o.metric else None,
                "unit": o.unit,
                "baseline": o.baseline,
                "target": o.target,
                "target_days": (o.target_date - today).days if o.target_date else None,
            }
            for o in outcomes
        ],
        milestones=[
            {
                "title": m.title,
                "due_days": max(0, (m.due_date - today).days),
                "outcome": index.get(m.outcome_id) if m.outcome_id else None,
                "metric": m.metric.key if m.metric else None,
                "threshold": m.threshold,
            }
            for m in milestones
            if m.outcome_id is None or m.outcome_id in index
        ],
        created_by=acting_user,
    )
    message = _("Invalid template.")
    model_validate(template, message=message)
    model_save(template, message=message)
    return template


def _metric(key: str | None) -> MetricDefinition | None:
    return MetricDefinition.objects.filter(key=key).first() if key else None


@write_service
def plan_template_apply(
    *, acting_user: User | None, account: Account, template: PlanTemplate, today: dt.date | None = None
) -> list[DesiredOutcome]:
    """Add the template's outcomes and milestones to the account's plan, dated from ``today``, the
    milestones owned by the account's CSM; the plan's experience is filled where it is empty."""
    today = today or timezone.localdate()
    plan = plan_for(account)
    if not (plan.service_model or plan.cadence_days or plan.experience):
        plan_save(
            acting_user=acting_user,
            account=account,
            sponsor=plan.sponsor,
            service_model=template.service_model,
            cadence_days=template.cadence_days,
            experience=template.experience,
        )
    created: list[DesiredOutcome] = []
    for item in template.outcomes:
        metric = _metric(item.get("metric"))
        kind = item.get("kpi_kind") or "reported"
        if kind == "metric" and metric is None:
            kind = "reported"  # the metric was deleted since: the customer reports the figure
        days = item.get("target_days")
        created.append(
            outcome_save(
                acting_user=acting_user,
                account=account,
                title=str(item.get("title") or "")[:200],
                kpi_kind=kind,
                metric=metric,
                unit=str(item.get("unit") or ""),
                baseline=item.get("baseline"),
                target=float(item.get("target") or 0),
                target_date=today + dt.timedelta(days=int(days)) if days is not None else None,
            )
        )
    owner = account.csm_owner
    for item in template.milestones:
        position = item.get("outcome")
        outcome = created[position] if isinstance(position, int) and 0 <= position < len(created) else None
        metric = _metric(item.get("metric"))
        milestone_create(
            acting_user=acting_user,
            account=account,
            title=str(item.get("title") or "")[:200],
            due_date=today + dt.timedelta(days=int(item.get("due_days") or 0)),
            owner=owner,
            outcome=outcome,
            metric=metric,
            threshold=item.get("threshold") if metric is not None else None,
        )
    return created


@dataclass
class TemplatesApplied:
    plans: int = 0


def plan_templates_auto_apply(*, acting_user: User | None, today: dt.date) -> TemplatesApplied:
    """Part of the daily *segments* step: each auto-applied template goes to its segment's current
    members that have no desired outcome yet (idempotent: the next day they have one)."""
    from tandem.segments.models import SegmentMembership

    result = TemplatesApplied()
    started: list[int] = []
    for template in PlanTemplate.objects.filter(auto_apply=True, segment__isnull=False).order_by("id"):
        members = SegmentMembership.objects.filter(segment=template.segment, left_on__isnull=True).values("account_id")
        accounts = (
            Account.objects.filter(pk__in=members, archived_at__isnull=True)
            .exclude(success_plan__outcomes__isnull=False)
            .select_related("csm_owner")
            .order_by("pk")
        )
        for account in accounts:
            plan_template_apply(acting_user=acting_user, account=account, template=template, today=today)
            started.append(account.pk)
            result.plans += 1
    if started:
        # This step runs after the day's milestones step: a metric milestone the account has already
        # reached is reached now, not on tomorrow's run.
        milestones_reach_by_metrics(acting_user=acting_user, today=today, account_ids=started)
    return result


@write_service
def plan_template_delete(*, acting_user: User | None, template: PlanTemplate) -> None:
    """Delete a template; the plans made from it are the accounts' own and stay."""
    template.delete()
