"""Rules on real data: each trigger, conditions, idempotent opening, quiet periods, pools, steps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.accounts.models import LifecycleStage, StakeholderRole, Tier
from tandem.health.models import AccountHealth
from tandem.playbooks.models import (
    CallToAction,
    CtaStatus,
    CtaTask,
    PoolStrategy,
    StepKind,
    StepRole,
    TaskStatus,
    WorkPool,
)
from tandem.playbooks.providers import Providers, default_providers
from tandem.playbooks.services import (
    CtaAdvanceResult,
    cta_close,
    ctas_advance,
    priority_score,
    rule_preview,
    rules_evaluate,
)
from tandem.success.models import SuccessMilestone
from tandem.surveys.models import NpsResponse
from tandem.usage.eventstore import Event
from tandem.users.services import user_create
from tests.factories import AccountFactory, ContactFactory, ContactRoleFactory, TicketFactory
from tests.playbooks.helpers import playbook_with, rule_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 30)
NOW = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)


@pytest.fixture
def csm():
    return user_create(acting_user=None, username="csm1", password=None, roles=["csm"], email="csm1@tandem.test")


def opened(rule) -> set[int]:
    return set(CallToAction.objects.filter(rule=rule).values_list("account_id", flat=True))


def test_renewal_nps_milestone_stakeholder_new_account_tickets_and_silence(csm) -> None:
    soon = AccountFactory(renewal_date=TODAY + dt.timedelta(days=20), csm_owner=csm)
    AccountFactory(renewal_date=TODAY + dt.timedelta(days=200))
    unhappy, happy = AccountFactory(), AccountFactory()
    NpsResponse.objects.create(account=unhappy, score=3, responded_at=NOW - dt.timedelta(days=2))
    NpsResponse.objects.create(account=happy, score=9, responded_at=NOW - dt.timedelta(days=2))
    NpsResponse.objects.create(account=happy, score=2, responded_at=NOW - dt.timedelta(days=90))  # too old
    late = AccountFactory()
    SuccessMilestone.objects.create(account=late, title="Go live", due_date=TODAY - dt.timedelta(days=3))
    SuccessMilestone.objects.create(
        account=happy, title="Done", due_date=TODAY - dt.timedelta(days=3), completed_at=NOW
    )
    lost = AccountFactory()
    champion = ContactFactory(account=lost, still_at_company=False, left_on=TODAY - dt.timedelta(days=5))
    ContactRoleFactory(contact=champion, role=StakeholderRole.CHAMPION)
    fresh = AccountFactory(start_date=TODAY - dt.timedelta(days=3))
    noisy = AccountFactory()
    for n in range(3):
        TicketFactory(account=noisy, priority="urgent", opened_at=NOW - dt.timedelta(days=n))

    rules = {
        "renewal": rule_for("renewal_within", {"days": 30}),
        "nps": rule_for("nps_detractor", {"days": 30}),
        "milestone": rule_for("milestone_overdue"),
        "left": rule_for("stakeholder_left", {"days": 30}),
        "new": rule_for("new_account", {"days": 14}),
        "tickets": rule_for("ticket_volume", {"count": 3, "days": 7, "priority": "urgent"}),
    }
    report = rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert opened(rules["renewal"]) == {soon.pk}
    assert opened(rules["nps"]) == {unhappy.pk}
    assert opened(rules["milestone"]) == {late.pk}
    assert opened(rules["left"]) == {lost.pk}
    assert opened(rules["new"]) == {fresh.pk}
    assert opened(rules["tickets"]) == {noisy.pk}
    assert report.opened == 6
    cta = CallToAction.objects.get(rule=rules["renewal"])
    assert (cta.owner, cta.status, cta.due_date, cta.opened_on) == (
        csm,
        CtaStatus.OPEN,
        TODAY + dt.timedelta(days=7),
        TODAY,
    )
    assert cta.reason == "Renews on 2025-07-20 (in 20 days)."
    # The owner is told, once.
    assert list(csm.notifications.values_list("key", flat=True)) == [f"cta:{cta.pk}"]

    again = rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert again.opened == 0
    assert CallToAction.objects.count() == 6
    assert csm.notifications.count() == 1


def test_no_interaction_counts_only_accounts_old_enough(csm) -> None:
    from tests.factories import InteractionFactory

    quiet = AccountFactory(start_date=dt.date(2024, 1, 1))
    busy = AccountFactory(start_date=dt.date(2024, 1, 1))
    AccountFactory(start_date=TODAY - dt.timedelta(days=10))  # too new to be "quiet"
    InteractionFactory(account=quiet, occurred_at=NOW - dt.timedelta(days=80))
    InteractionFactory(account=busy, occurred_at=NOW - dt.timedelta(days=5))
    rule = rule_for("no_interaction", {"days": 45})
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert opened(rule) == {quiet.pk}
    assert CallToAction.objects.get(rule=rule).reason == "No interaction for 80 days."


def test_conditions_restrict_and_churned_accounts_are_skipped() -> None:
    big = AccountFactory(tier=Tier.ENTERPRISE, renewal_date=TODAY, arr=Decimal("90000"))
    AccountFactory(tier=Tier.SMB, renewal_date=TODAY, arr=Decimal("90000"))
    AccountFactory(tier=Tier.ENTERPRISE, renewal_date=TODAY, arr=Decimal("900"))
    AccountFactory(
        tier=Tier.ENTERPRISE, renewal_date=TODAY, arr=Decimal("90000"), lifecycle_stage=LifecycleStage.CHURNED
    )
    rule = rule_for(
        "renewal_within",
        {"days": 10},
        conditions=[
            {"field": "tier", "op": "eq", "value": "enterprise"},
            {"field": "arr", "op": "gte", "value": 10000},
        ],
    )
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert opened(rule) == {big.pk}


def test_usage_drop_and_seat_utilisation_from_the_event_store(event_store) -> None:
    from tests.factories import SubscriptionFactory, SubscriptionItemFactory

    dropping, steady = AccountFactory(), AccountFactory()
    events = []
    for day in range(60):
        ts = NOW - dt.timedelta(days=day)
        events += [Event(account_id=steady.pk, event="login", ts=ts, user_id=f"s{n}") for n in range(5)]
        per_day = 2 if day < 30 else 10
        events += [Event(account_id=dropping.pk, event="login", ts=ts, user_id=f"d{n}") for n in range(per_day)]
    event_store.append(events)
    sub = SubscriptionFactory(account=steady, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
    SubscriptionItemFactory(subscription=sub, quantity=Decimal("5"))
    drop = rule_for("usage_drop", {"percent": 50, "days": 30, "min_events": 100})
    seats = rule_for("seat_utilisation", {"threshold": 0.9})
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert opened(drop) == {dropping.pk}
    assert CallToAction.objects.get(rule=drop).reason == "Usage down 80% over 30 days (60 events, was 300)."
    assert opened(seats) == {steady.pk}


@dataclass
class FakeHealth:
    score: float
    band: str
    as_of: dt.date
    change_7d: float | None
    change_30d: float | None


def test_health_triggers_through_a_provider_double_and_unavailable_without_one() -> None:
    weak, falling, fine = AccountFactory(arr=Decimal("50000")), AccountFactory(), AccountFactory()
    health = {
        weak.pk: FakeHealth(25, "red", TODAY, -2, -4),
        falling.pk: FakeHealth(62, "yellow", TODAY, -3, -20),
        fine.pk: FakeHealth(80, "green", TODAY, 0, 1),
    }
    double = Providers(health=lambda *, account_ids=None: health)
    low = rule_for("health_score_below", {"threshold": 40})
    drop = rule_for("health_drop", {"points": 15, "days": 30})
    rules_evaluate(acting_user=None, today=TODAY, providers=double)
    assert opened(low) == {weak.pk} and opened(drop) == {falling.pk}
    # ARR at stake x risk (high = 0.75) x (1.5 - health/100)
    assert CallToAction.objects.get(rule=low).priority_score == pytest.approx(50000 * 0.75 * 1.25)

    preview = rule_preview(
        trigger="health_band", params={"bands": ["red"]}, conditions=[], today=TODAY, providers=Providers()
    )
    assert (preview.count, preview.unavailable) == (
        0,
        "Health data is not available (the health module is not installed).",
    )


def test_health_trigger_on_the_health_modules_real_selector() -> None:
    weak, fine = AccountFactory(), AccountFactory()
    AccountHealth.objects.create(account=weak, score=22.0, band="red", as_of=TODAY, change_7d=-1, change_30d=-30)
    AccountHealth.objects.create(account=fine, score=85.0, band="green", as_of=TODAY, change_7d=0, change_30d=2)
    assert default_providers().health is not None
    preview = rule_preview(trigger="health_drop", params={"points": 25, "days": 30}, conditions=[], today=TODAY)
    assert preview.count == 1 and preview.accounts[0]["id"] == weak.pk
    assert preview.accounts[0]["reason"] == "Health fell 30 points in 30 days."


def test_one_open_cta_per_rule_and_account_is_a_database_constraint() -> None:
    account = AccountFactory(renewal_date=TODAY)
    rule = rule_for("renewal_within", {"days": 5})
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    first = CallToAction.objects.get(rule=rule)
    with pytest.raises(IntegrityError), transaction.atomic():
        CallToAction.objects.create(
            rule=rule, account=account, type="renewal", title="dup", opened_on=TODAY, due_date=TODAY
        )
    # Once closed, the quiet period keeps the rule from reopening; after it, a new one opens.
    cta_close(cta=first, acting_user=None, outcome="success")
    rule.reopen_after_days = 0
    rule.save()
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    assert CallToAction.objects.filter(rule=rule).count() == 2
    rule.reopen_after_days = 30
    rule.save()
    CallToAction.objects.filter(rule=rule, status=CtaStatus.OPEN).update(
        status=CtaStatus.CLOSED, closed_at=timezone.now()
    )
    assert rules_evaluate(acting_user=None, today=TODAY, providers=Providers()).opened == 0


@pytest.mark.parametrize(
    ("strategy", "expected"), [(PoolStrategy.ROUND_ROBIN, [0, 1, 0, 1]), (PoolStrategy.LEAST_LOADED, [1, 1, 1, 0])]
)
def test_pools_assign_round_robin_or_least_loaded(strategy, expected) -> None:
    members = [user_create(acting_user=None, username=f"p{i}", password=None, roles=["csm"]) for i in range(2)]
    pool = WorkPool.objects.create(name="Pool", strategy=strategy)
    pool.members.set(members)
    busy_rule = rule_for("renewal_within", {"days": 400})
    for _ in range(3):  # member 0 already carries three CTAs
        CallToAction.objects.create(
            rule=busy_rule,
            account=AccountFactory(),
            type="risk",
            title="x",
            opened_on=TODAY,
            due_date=TODAY,
            owner=members[0],
        )
    accounts = [AccountFactory(renewal_date=TODAY) for _ in range(4)]
    rule = rule_for("renewal_within", {"days": 5}, pool=pool)
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers(), rule_ids=[rule.pk])
    owners = [CallToAction.objects.get(rule=rule, account=a).owner_id for a in accounts]
    assert owners == [members[i].pk for i in expected]


def test_playbook_steps_roles_branch_wait_and_notify(csm) -> None:
    am = user_create(acting_user=None, username="am1", password=None, roles=["account_manager"])
    manager = user_create(acting_user=None, username="boss", password=None, roles=["cs_manager"])
    account = AccountFactory(tier=Tier.SMB, renewal_date=TODAY, csm_owner=csm, am_owner=am)
    playbook = playbook_with(
        "steps",
        [
            {"kind": StepKind.TASK, "title": "Review", "role": StepRole.AM, "due_offset_days": 2},
            {
                "kind": StepKind.BRANCH,
                "title": "Enterprise?",
                "condition": {"field": "tier", "op": "eq", "value": "enterprise"},
                "skip_if_false": 1,
            },
            {"kind": StepKind.TASK, "title": "Enterprise only"},
            {"kind": StepKind.NOTIFY, "title": "Heads up", "role": StepRole.CS_MANAGER},
            {"kind": StepKind.WAIT, "title": "Wait a week", "due_offset_days": 7},
            {"kind": StepKind.TASK, "title": "After the wait", "due_offset_days": 1},
        ],
    )
    rule = rule_for("renewal_within", {"days": 5}, playbook=playbook)
    rules_evaluate(acting_user=None, today=TODAY, providers=Providers())
    cta = CallToAction.objects.get(rule=rule)
    tasks = list(cta.tasks.values_list("title", "assignee__username", "due_date", "status"))
    assert tasks == [
        ("Review", "am1", TODAY + dt.timedelta(days=2), "pending"),
        ("Heads up", "boss", TODAY, "done"),
        ("Wait a week", "csm1", TODAY + dt.timedelta(days=7), "pending"),
    ]
    assert manager.notifications.get().title == f"Heads up: {account.name}"
    assert ctas_advance(acting_user=None, today=TODAY + dt.timedelta(days=6)) == CtaAdvanceResult(
        woken=0, waits_finished=0
    )
    assert ctas_advance(acting_user=None, today=TODAY + dt.timedelta(days=7)) == CtaAdvanceResult(
        woken=0, waits_finished=1
    )
    after = CtaTask.objects.get(cta=cta, title="After the wait")
    assert (after.due_date, after.status) == (TODAY + dt.timedelta(days=8), TaskStatus.PENDING)
    # idempotent
    assert ctas_advance(acting_user=None, today=TODAY + dt.timedelta(days=7)) == CtaAdvanceResult(
        woken=0, waits_finished=0
    )


def test_priority_score_formula() -> None:
    assert priority_score(arr=0, priority=1, health_score=None) == 1000 * 0.25 * 1.0
    assert priority_score(arr=200000, priority=4, health_score=10) == 200000 * 1.0 * 1.4
