"""The whole demo's believable history: CTAs opened and closed over a year, won and lost deals,
renewal forecasts that follow churn risk, and home page counts that agree with the renewal center."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count

from tandem.accounts.models import Account
from tandem.accounts.selectors import portfolio_overview
from tandem.audit.context import audit_context
from tandem.audit.models import AuditEntry, AuditVia
from tandem.demo.builder import DemoResult, SilentPhases, build_demo
from tandem.demo.pipeline import DemoContext, run_post_build_steps
from tandem.health.selectors import account_health_current
from tandem.opportunities.forecast import derive_forecast
from tandem.opportunities.models import EXPANSION_KINDS, OPEN_STAGES, Opportunity, OpportunityKind, Stage
from tandem.opportunities.selectors import renewal_center
from tandem.playbooks.models import OPEN_Q, CallToAction, CtaStatus, StepRole
from tandem.playbooks.selectors import cta_outcomes, my_day, team_queues
from tandem.risk.selectors import account_risk_current
from tandem.subscriptions.models import Subscription
from tandem.success.models import SuccessMilestone
from tandem.support.models import Ticket
from tandem.surveys.models import NpsResponse
from tandem.timeline.models import EventKind, TimelineEvent
from tandem.usage.eventstore import EventStore
from tandem.users.models import User

TODAY = dt.date(2025, 6, 15)


@pytest.fixture
def demo(db, event_store: EventStore, tmp_path: Path, fast_hashing) -> DemoResult:
    return build_demo(seed=5, home=tmp_path, accounts=120, today=TODAY, scale=0.25)


def test_ctas_were_opened_and_closed_over_the_past_year_by_the_rules_people(demo: DemoResult) -> None:
    closed = list(CallToAction.objects.filter(status=CtaStatus.CLOSED).select_related("account", "rule"))
    assert len(closed) > 30
    opened = sorted(c.opened_on for c in closed)
    assert opened[0] < TODAY - dt.timedelta(days=180) and opened[-1] < TODAY
    on_time = [c for c in closed if c.closed_at.date() <= c.due_date]
    assert 0 < len(on_time) < len(closed)  # SLA hits and breaches
    assert len({c.outcome for c in closed}) >= 3 and all(c.outcome for c in closed)
    for c in closed:
        assert c.rule is not None and c.due_date == c.opened_on + dt.timedelta(days=c.rule.due_in_days)
        assert c.opened_on <= c.closed_at.date() < TODAY
        if c.rule.pool_id is None and c.rule.owner_role == StepRole.CSM:
            assert c.owner_id == (c.account.csm_owner_id or c.account.am_owner_id)
        if c.rule.pool_id is None and c.rule.owner_role == StepRole.AM:
            assert c.owner_id == (c.account.am_owner_id or c.account.csm_owner_id)
    # Never two CTAs of one type at the same time on an account (closed history and open queue).
    spans: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for c in CallToAction.objects.all():
        spans[(c.account_id, c.type)].append((c.opened_on, c.closed_at.date() if c.closed_at else TODAY))
    for intervals in spans.values():
        intervals.sort()
        for (_a, end), (start, _b) in itertools.pairwise(intervals):
            assert start > end
    # Written through the bulk services that record the audit history.
    kind = ContentType.objects.get_for_model(CallToAction)
    audited = set(AuditEntry.objects.filter(content_type=kind).values_list("object_id", flat=True))
    assert {c.pk for c in closed} <= audited


def test_team_queue_sla_and_outcome_figures_are_non_zero_and_consistent(demo: DemoResult) -> None:
    rows = team_queues(today=TODAY)
    open_ctas = CallToAction.objects.filter(OPEN_Q)
    assert sum(r.open for r in rows) == open_ctas.count() > 0
    overdue = open_ctas.filter(due_date__lt=TODAY).count()
    assert sum(r.overdue for r in rows) == overdue > 0
    summary = cta_outcomes(today=TODAY)
    assert summary.closed == sum(r.closed for r in rows) > 0
    assert summary.on_time == sum(r.on_time for r in rows)
    assert 0 < summary.on_time < summary.closed
    assert sum(n for _v, _l, n in summary.outcomes) == summary.closed
    # At most one open CTA per account and type.
    dup = open_ctas.values("account", "type").annotate(n=Count("id")).filter(n__gt=1)
    assert not dup.exists()


def test_most_urgent_first_orders_by_priority(demo: DemoResult) -> None:
    owner = User.objects.get(username="anna")
    queue = my_day(user=owner, today=TODAY)
    assert queue
    priorities = [c.priority for c in queue]
    assert priorities == sorted(priorities, reverse=True)


def test_deals_were_won_and_lost_in_the_past(demo: DemoResult) -> None:
    expansions = Opportunity.objects.filter(kind__in=EXPANSION_KINDS)
    won = expansions.filter(stage=Stage.CLOSED_WON)
    assert won.exists() and expansions.filter(stage=Stage.CLOSED_LOST).exists()
    assert all(o.closed_on is not None and o.closed_on < TODAY for o in won)
    renewals = Opportunity.objects.filter(kind=OpportunityKind.RENEWAL)
    assert renewals.filter(stage=Stage.CLOSED_WON).exists() and renewals.filter(stage=Stage.CLOSED_LOST).exists()


def test_renewal_forecasts_follow_churn_risk_as_documented(demo: DemoResult) -> None:
    open_renewals = list(Opportunity.objects.filter(kind=OpportunityKind.RENEWAL, stage__in=OPEN_STAGES))
    assert open_renewals
    ids = [o.account_id for o in open_renewals]
    health, risk = account_health_current(account_ids=ids), account_risk_current(account_ids=ids)
    for o in open_renewals:
        h, r = health.get(o.account_id), risk.get(o.account_id)
        want = derive_forecast(current_arr=o.current_arr, risk=r.probability if r else None, band=h.band if h else None)
        assert (o.forecast_category, o.probability, o.amount) == (want.category, want.probability, want.expected_arr)
    assert any(o.amount < o.current_arr for o in open_renewals)  # expected ARR is not just the ARR


def test_evergreen_terms_are_never_due_for_renewal_and_home_agrees_with_the_renewal_center(demo: DemoResult) -> None:
    evergreen = Subscription.objects.filter(end_date__isnull=True)
    assert evergreen.exists() and not evergreen.filter(renewal_date__isnull=False).exists()
    for username in ("morgan", "anna", "isabel"):
        user = User.objects.get(username=username)
        overview = portfolio_overview(user=user, today=TODAY)
        # The home page's link: the renewal center over 90 days, of the user's book unless they see all.
        center = renewal_center(today=TODAY, user=user, horizon_days=90, book_of=None if overview.sees_all else user)
        assert overview.renewals_count == len(center.open), username
        assert {a.pk for a in overview.renewals} <= {row.opportunity.account_id for row in center.open}
        if not isinstance(center.totals.get("current_arr"), str) and center.open:
            assert overview.renewals_arr == center.totals["current_arr"]


DATA_KINDS = (
    EventKind.TICKET_OPENED,
    EventKind.TICKET_SOLVED,
    EventKind.SURVEY_ANSWERED,
    EventKind.MILESTONE_REACHED,
    EventKind.STAGE_CHANGED,
    EventKind.HEALTH_CHANGED,
    EventKind.CONTRACT_CHANGED,
)


def _data_events() -> dict[str, int]:
    rows = TimelineEvent.objects.filter(kind__in=DATA_KINDS).values_list("kind").annotate(n=Count("id"))
    return dict(rows)


def test_the_timeline_has_the_data_side_history_at_its_real_times_and_rerunning_the_steps_adds_nothing(
    demo: DemoResult, tmp_path: Path
) -> None:
    counts = _data_events()
    assert all(counts.get(kind, 0) > 0 for kind in DATA_KINDS), counts

    def when(kind: str) -> dict[int, dt.datetime]:
        return dict(TimelineEvent.objects.filter(kind=kind).values_list("target_id", "occurred_at"))

    tickets = list(Ticket.objects.values_list("pk", "opened_at", "closed_at", "status"))
    assert when(EventKind.TICKET_OPENED) == {pk: opened for pk, opened, _closed, _status in tickets}
    solved = {pk: closed for pk, _opened, closed, status in tickets if status in ("solved", "closed")}
    assert when(EventKind.TICKET_SOLVED) == solved
    assert when(EventKind.SURVEY_ANSWERED) == dict(NpsResponse.objects.values_list("pk", "responded_at"))
    reached = SuccessMilestone.objects.filter(completed_at__isnull=False).values_list("pk", "completed_at")
    assert when(EventKind.MILESTONE_REACHED) == dict(reached)

    # Each account's stages lead to the one it has, starting when it started.
    stages: dict[int, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    for account_id, on, data in TimelineEvent.objects.filter(kind=EventKind.STAGE_CHANGED).values_list(
        "account_id", "occurred_at", "data"
    ):
        stages[account_id].append((on, data["before"], data["after"]))
    for account in Account.objects.all():
        moves = sorted(stages[account.pk])
        # 9:30 on its first day in the account's market: the day before in UTC east of it.
        assert moves[0][1] == "" and abs((moves[0][0].date() - account.start_date).days) <= 1, account
        assert moves[-1][2] == account.lifecycle_stage
        assert all(a[2] == b[1] for a, b in itertools.pairwise(moves))
    assert TimelineEvent.objects.filter(kind=EventKind.CONTRACT_CHANGED, data__change="renewed").exists()
    assert TimelineEvent.objects.filter(kind=EventKind.CONTRACT_CHANGED, data__change="cancelled").exists()
    health_days = {on.date() for on in TimelineEvent.objects.filter(kind=EventKind.HEALTH_CHANGED).values_list(
        "occurred_at", flat=True
    )}  # fmt: skip
    assert len(health_days) > 5 and max(health_days) <= TODAY  # over the scored history, up to today

    # The steps that write these events run again (as a rebuild does): nothing is doubled. The
    # health history is scored again on what the later steps added (CTAs, deals), so its band
    # changes may differ a little, but each account changes band at most once a day.
    ctx = DemoContext(seed=demo.seed, today=TODAY, home=tmp_path, phases=SilentPhases())
    with audit_context(via=AuditVia.SYSTEM, actor=None):
        run_post_build_steps(
            ctx,
            steps=["tandem.playbooks.demo.signals_step", "tandem.health.demo.demo_step", "tandem.daily.demo.demo_step"],
        )
    again = _data_events()
    health, health_again = counts.pop(EventKind.HEALTH_CHANGED), again.pop(EventKind.HEALTH_CHANGED)
    assert again == counts
    assert abs(health_again - health) < health * 0.1
    moments = TimelineEvent.objects.filter(kind=EventKind.HEALTH_CHANGED).values_list("account_id", "occurred_at")
    assert len(set(moments)) == len(moments)
