"""The demo's success plans: an onboarding segment, its plan template, and a plan from it for each
onboarding account, dated from the day the account started so that some milestones are reached by
their metric in the daily pipeline and others are overdue (success gaps the rules act on)."""

from __future__ import annotations

import datetime as dt

from tandem.accounts.models import Account, LifecycleStage
from tandem.demo.pipeline import DemoContext
from tandem.segments.models import Segment
from tandem.segments.services import segment_save
from tandem.success.models import PlanTemplate
from tandem.success.templates_services import plan_template_apply

TEMPLATE = "Onboarding to first value"
SEGMENT = "In onboarding"


def demo_step(ctx: DemoContext) -> None:
    """Registered in tandem.demo.pipeline.POST_BUILD_STEPS before the daily pipeline (which completes
    the metric milestones and lets the rules see the gaps)."""
    from tandem.metrics.models import MetricDefinition

    segment = Segment.objects.filter(name=SEGMENT).first()
    segment = segment_save(
        acting_user=None,
        segment=segment,
        name=SEGMENT,
        description="Accounts still onboarding: they get the onboarding success plan.",
        conditions=[{"field": "lifecycle_stage", "op": "in", "value": [LifecycleStage.ONBOARDING]}],
        service_model="high_touch",
        today=ctx.today,
    )
    metric = "active_users_28d" if MetricDefinition.objects.filter(key="active_users_28d").exists() else None
    outcomes = [
        {
            "title": "The team plans its work in the product every week",
            "kpi_kind": "metric" if metric else "reported",
            "metric": metric,
            "unit": "" if metric else "people",
            "baseline": 0,
            "target": 25,
            "target_days": 120,
        },
        {
            "title": "Hours saved on reporting each month",
            "kpi_kind": "reported",
            "metric": None,
            "unit": "h",
            "baseline": 0,
            "target": 20,
            "target_days": 180,
        },
    ]
    milestones = [
        {"title": "Kick-off call held", "due_days": 7, "outcome": 0, "metric": None, "threshold": None},
        {"title": "Admins trained", "due_days": 21, "outcome": 0, "metric": None, "threshold": None},
        {"title": "5 active users", "due_days": 30, "outcome": 0, "metric": metric, "threshold": 5 if metric else None},
        {
            "title": "15 active users",
            "due_days": 75,
            "outcome": 0,
            "metric": metric,
            "threshold": 15 if metric else None,
        },
        {"title": "First monthly report shared", "due_days": 60, "outcome": 1, "metric": None, "threshold": None},
    ]
    template, _created = PlanTemplate.objects.update_or_create(
        name=TEMPLATE,
        defaults={
            "segment": segment,
            "auto_apply": True,
            "service_model": "high_touch",
            "cadence_days": 14,
            "experience": "A fortnightly call with the CSM until go-live, then monthly.",
            "outcomes": outcomes,
            "milestones": milestones,
        },
    )
    accounts = list(
        Account.objects.filter(
            segment_memberships__segment=segment, segment_memberships__left_on__isnull=True, archived_at__isnull=True
        )
        .exclude(success_plan__outcomes__isnull=False)
        .select_related("csm_owner")
        .order_by("pk")
    )
    advance = ctx.phases.start("Success plans from a template", len(accounts))
    for account in accounts:
        start = account.start_date or ctx.today
        anchor = max(start, ctx.today - dt.timedelta(days=120))
        plan_template_apply(acting_user=None, account=account, template=template, today=anchor)
        advance(1)
