"""Writes for success plans: the plan, its desired outcomes and the milestones on the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.accounts.models import Account, Contact
from tandem.audit.bulk import bulk_save
from tandem.audit.context import write_service
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import blank_to_none, model_save, model_validate
from tandem.metrics.models import MetricDefinition
from tandem.metrics.selectors import metric_values
from tandem.success.models import DesiredOutcome, KpiKind, OutcomeStatus, SuccessMilestone, SuccessPlan
from tandem.success.selectors import plan_for
from tandem.timeline import events
from tandem.timeline.models import EventKind
from tandem.users.models import User


def _reached(milestone: SuccessMilestone, *, actor_id: int | None) -> events.Event:
    assert milestone.completed_at is not None
    return events.Event(
        account_id=milestone.account_id,
        kind=EventKind.MILESTONE_REACHED,
        occurred_at=milestone.completed_at,
        actor_id=actor_id,
        target=milestone,
        # A milestone reached by its metric shows the value it reached; one reached by hand, none.
        data={"title": milestone.title, "value": milestone.reached_value, "due_date": milestone.due_date},
    )


@write_service
def milestone_create(
    *,
    acting_user: User | None,
    account: Account,
    title: str,
    due_date: dt.date,
    owner: User | None = None,
    external_id: str | None = None,
    outcome: DesiredOutcome | None = None,
    metric: MetricDefinition | None = None,
    threshold: float | None = None,
) -> SuccessMilestone:
    """Add a milestone to an account's success plan, on the path to ``outcome`` if given; with a
    ``metric`` and ``threshold`` it completes itself when the metric reaches the threshold."""
    milestone = SuccessMilestone(
        account=account,
        title=title,
        due_date=due_date,
        owner=owner,
        external_id=blank_to_none(external_id),
        outcome=outcome,
        metric=metric,
        threshold=threshold,
    )
    message = _("Invalid milestone.")
    model_validate(milestone, message=message)
    model_save(milestone, message=message)
    return milestone


@write_service
def milestone_complete(
    *,
    acting_user: User | None,
    milestone: SuccessMilestone,
    when: dt.datetime | None = None,
    evidence: str = "",
    value: float | None = None,
) -> SuccessMilestone:
    """Mark a milestone reached (with the evidence, or the metric's value); completing it twice keeps
    the first date and evidence."""
    milestone = SuccessMilestone.objects.select_for_update().get(pk=milestone.pk)
    if milestone.completed_at is None:
        milestone.completed_at = when or timezone.now()
        milestone.evidence = evidence.strip()
        milestone.reached_value = value
        milestone.completed_by = acting_user
        milestone.save(update_fields=["completed_at", "evidence", "reached_value", "completed_by", "updated_at"])
        events.record_many([_reached(milestone, actor_id=acting_user.pk if acting_user is not None else None)])
    return milestone


@write_service
def milestones_reach_by_metrics(
    *, acting_user: User | None, today: dt.date, account_ids: Sequence[int] | None = None
) -> int:
    """The daily pipeline's *milestones* step: complete every open milestone whose metric has reached
    its threshold (at least it; at most it when lower is better), recording the value it reached
    (idempotent: a reached milestone stays reached).

    It reads each metric's latest values once, for the accounts with such milestones only."""
    linked = SuccessMilestone.objects.filter(
        completed_at__isnull=True, metric__isnull=False, account__archived_at__isnull=True
    )
    if account_ids is not None:
        linked = linked.filter(account_id__in=list(account_ids))
    open_linked = list(linked.select_related("metric").order_by("id"))
    by_metric: dict[str, list[SuccessMilestone]] = {}
    for milestone in open_linked:
        assert milestone.metric is not None
        by_metric.setdefault(milestone.metric.key, []).append(milestone)
    now = timezone.now()
    reached = 0
    for key, milestones in by_metric.items():
        values = metric_values(key=key, account_ids={m.account_id for m in milestones})
        for milestone in milestones:
            value = values.get(milestone.account_id)
            if value is not None and milestone.threshold is not None and _reaches(milestone, value):
                milestone_complete(acting_user=acting_user, milestone=milestone, when=now, value=value)
                reached += 1
    return reached


def _reaches(milestone: SuccessMilestone, value: float) -> bool:
    """At least the threshold, or at most it for a metric where lower is better (time to value)."""
    assert milestone.metric is not None and milestone.threshold is not None
    return value >= milestone.threshold if milestone.metric.higher_is_better else value <= milestone.threshold


@write_service
def plan_save(
    *,
    acting_user: User | None,
    account: Account,
    sponsor: Contact | None = None,
    service_model: str = "",
    cadence_days: int | None = None,
    experience: str = "",
) -> SuccessPlan:
    """Set the plan's executive sponsor and the appropriate experience agreed (service model,
    touch-point cadence, how the customer must reach its outcomes); creates the plan if needed."""
    plan = SuccessPlan.objects.select_for_update().filter(account=account).first() or SuccessPlan(account=account)
    plan.sponsor = sponsor
    plan.service_model = service_model
    plan.cadence_days = cadence_days
    plan.experience = experience.strip()
    message = _("Invalid success plan.")
    model_validate(plan, message=message)
    model_save(plan, message=message)
    return plan


def _outcome_status(outcome: DesiredOutcome, status: str, *, today: dt.date) -> None:
    if status not in OutcomeStatus.values:
        raise DomainError(
            _("Invalid outcome."),
            [FieldError("status", _("Choose one of: %(v)s.") % {"v": ", ".join(OutcomeStatus.values)})],
        )
    if status == OutcomeStatus.ACHIEVED and outcome.status != OutcomeStatus.ACHIEVED:
        outcome.achieved_on = today
    elif status != OutcomeStatus.ACHIEVED:
        outcome.achieved_on = None
    outcome.status = status


@write_service
def outcome_save(
    *,
    acting_user: User | None,
    account: Account,
    title: str,
    target: float,
    kpi_kind: str = KpiKind.METRIC,
    metric: MetricDefinition | None = None,
    unit: str = "",
    baseline: float | None = None,
    reported: float | None = None,
    target_date: dt.date | None = None,
    status: str = OutcomeStatus.OPEN,
    outcome: DesiredOutcome | None = None,
) -> DesiredOutcome:
    """Add a desired outcome to the account's plan (creating the plan) or change ``outcome``.

    When the customer's goals change the outcome is edited (or marked as no longer a goal and a new
    one added): the audit history keeps every earlier version."""
    if outcome is None:
        plan = plan_for(account)
        if plan.pk is None:
            model_save(plan, message=_("Invalid success plan."))
        outcome = DesiredOutcome(plan=plan)
    elif outcome.plan.account_id != account.pk:
        raise DomainError(
            _("Invalid outcome."), [FieldError("outcome", _("The outcome belongs to another account's plan."))]
        )
    outcome.title = title.strip()
    outcome.kpi_kind = kpi_kind
    outcome.metric = metric if kpi_kind == KpiKind.METRIC else None
    outcome.unit = unit.strip()
    outcome.baseline = baseline
    outcome.target = target
    outcome.reported = reported
    outcome.target_date = target_date
    _outcome_status(outcome, status, today=timezone.localdate())
    message = _("Invalid outcome.")
    model_validate(outcome, message=message)
    model_save(outcome, message=message)
    return outcome


@write_service
def milestone_bulk_create(
    *, acting_user: User | None, milestones: Sequence[SuccessMilestone], now: dt.datetime
) -> None:
    """Record many milestones at once (a plan imported from another tool, the demo), with their audit
    entries; those already completed are reached on the timeline when they were completed."""
    bulk_save(SuccessMilestone, creates=milestones, updates=[], fields=[], now=now)
    events.record_many(
        _reached(m, actor_id=m.owner_id if acting_user is None else acting_user.pk)
        for m in milestones
        if m.completed_at is not None
    )
