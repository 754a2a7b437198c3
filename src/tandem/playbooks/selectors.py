"""Reads: the work queues ("My day", team, pools) and a CTA with its tasks.

Queue order (docs/playbooks.md): overdue first, then by ``priority_score * urgency`` where
``priority_score`` = ARR at stake * risk (fixed when the CTA opened) and urgency is 3 when due within
3 days, 2 within 14 days, else 1. Queues read only open rows through partial indexes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from tandem.playbooks.models import OPEN_Q, CallToAction, CtaStatus, CtaTask, Rule, StepKind, TaskStatus, WorkPool
from tandem.users.models import User

if TYPE_CHECKING:
    from tandem.opportunities.models import Opportunity

WORK_KINDS = [StepKind.TASK, StepKind.EMAIL]


def _visible_open(today: dt.date) -> Q:
    # OPEN_Q repeats the partial indexes' own predicate so the planner may use them (see models.py);
    # without it SQLite walks every CTA of the owner, closed ones too.
    return OPEN_Q & (Q(status=CtaStatus.OPEN) | Q(status=CtaStatus.SNOOZED, snoozed_until__lte=today))


def queue_order(qs: QuerySet[CallToAction], *, today: dt.date) -> QuerySet[CallToAction]:
    urgency = Case(
        When(due_date__lte=today + dt.timedelta(days=3), then=Value(3.0)),
        When(due_date__lte=today + dt.timedelta(days=14), then=Value(2.0)),
        default=Value(1.0),
        output_field=FloatField(),
    )
    return qs.annotate(
        overdue=Case(When(due_date__lt=today, then=Value(1)), default=Value(0), output_field=IntegerField()),
        rank=ExpressionWrapper(F("priority_score") * urgency, output_field=FloatField()),
        tasks_total=Count("tasks", filter=Q(tasks__kind__in=WORK_KINDS)),
        tasks_done=Count("tasks", filter=Q(tasks__kind__in=WORK_KINDS, tasks__status=TaskStatus.DONE)),
    ).order_by("-overdue", "-rank", "due_date", "id")


def my_day(*, user: User, today: dt.date, limit: int = 100) -> list[CallToAction]:
    """The user's open CTAs in queue order (snoozed ones reappear on their day)."""
    qs = CallToAction.objects.filter(_visible_open(today), owner=user).select_related("account", "rule")
    return list(queue_order(qs, today=today)[:limit])


@dataclass
class QueueSummary:
    total: int
    overdue: int
    top: list[CallToAction] = field(default_factory=list)


def queue_summary(*, user: User, today: dt.date, limit: int = 10) -> QueueSummary:
    base = CallToAction.objects.filter(_visible_open(today), owner=user)
    counts = base.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today)))
    return QueueSummary(counts["total"], counts["overdue"], my_day(user=user, today=today, limit=limit))


@dataclass
class TeamRow:
    user_id: int | None
    name: str
    open: int
    overdue: int
    due_today: int


def team_queues(*, today: dt.date) -> list[TeamRow]:
    """Open, overdue (SLA breached) and due-today CTAs per owner; unassigned as its own row."""
    rows = (
        CallToAction.objects.filter(OPEN_Q)
        .values("owner_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(due_date__lt=today)),
            due_today=Count("id", filter=Q(due_date=today)),
        )
    )
    users = User.objects.in_bulk([r["owner_id"] for r in rows if r["owner_id"]])
    out = [
        TeamRow(
            r["owner_id"], str(users[r["owner_id"]]) if r["owner_id"] else "", r["open"], r["overdue"], r["due_today"]
        )
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r.overdue, -r.open, r.name))


def sla_breaches(*, today: dt.date, limit: int = 25) -> list[CallToAction]:
    """The longest-overdue open CTAs across the team."""
    return list(
        CallToAction.objects.filter(OPEN_Q, status=CtaStatus.OPEN, due_date__lt=today)
        .select_related("account", "owner")
        .order_by("due_date", "-priority_score")[:limit]
    )


def pool_queue(*, pool: WorkPool, today: dt.date, limit: int = 100) -> list[CallToAction]:
    qs = CallToAction.objects.filter(_visible_open(today), pool=pool).select_related("account", "owner")
    return list(queue_order(qs, today=today)[:limit])


def cta_detail(*, cta_id: int) -> CallToAction:
    return CallToAction.objects.select_related("account", "owner", "rule", "playbook", "pool").get(pk=cta_id)


def cta_tasks(*, cta_id: int) -> list[CtaTask]:
    return list(
        CtaTask.objects.filter(cta_id=cta_id)
        .select_related("assignee", "email", "step__email_template")
        .order_by("position")
    )


def account_open_ctas(*, account_id: int) -> list[CallToAction]:
    return list(
        CallToAction.objects.filter(OPEN_Q, account_id=account_id).select_related("owner").order_by("due_date", "id")
    )


def rule_list() -> QuerySet[Rule]:
    # A correlated count on the partial (rule, account) unique index: a join would visit every
    # closed CTA of every rule.
    open_ctas = (
        CallToAction.objects.filter(OPEN_Q, rule=OuterRef("pk"))
        .order_by()
        .values("rule")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Rule.objects.select_related("playbook", "pool")
        .annotate(open_ctas=Coalesce(Subquery(open_ctas, output_field=IntegerField()), 0))
        .order_by("name")
    )


def cta_expansion_opportunity(*, cta_id: int) -> Opportunity | None:
    """The opportunity an expansion CTA was handed over as, if any."""
    from tandem.opportunities.models import Opportunity, OpportunitySource

    return Opportunity.objects.filter(source=OpportunitySource.CTA, source_ref=f"cta:{cta_id}").first()
