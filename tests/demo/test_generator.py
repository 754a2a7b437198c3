"""The hidden process, checked on the in-memory plan (no database): determinism and signal."""

from __future__ import annotations

import numpy as np
import pytest

from tandem.demo.generator import build_plan
from tandem.demo.plan import DemoPlan
from tests.demo.conftest import TODAY


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return build_plan(seed=3, accounts=400, today=TODAY, scale=0.05)


def _fingerprint(plan: DemoPlan) -> list[tuple]:
    return [
        (
            a.name,
            a.tier,
            a.start_day,
            a.churn_day,
            len(a.contacts),
            len(a.tickets),
            [(t.start_day, t.status, [(i.code, i.quantity, i.unit_price) for i in t.items]) for t in a.terms],
        )
        for a in plan.accounts
    ]


def test_same_seed_and_today_give_the_same_plan_and_another_seed_does_not():
    first = build_plan(seed=11, accounts=30, today=TODAY)
    again = build_plan(seed=11, accounts=30, today=TODAY)
    other = build_plan(seed=12, accounts=30, today=TODAY)

    assert _fingerprint(first) == _fingerprint(again)
    assert np.array_equal(first.health, again.health, equal_nan=True)
    assert [a.name for a in first.accounts] != [a.name for a in other.accounts]


def test_renewal_outcomes_are_ordered_by_health_at_decision(plan: DemoPlan):
    by_outcome = {
        outcome: np.mean([r.health_at_decision for r in plan.renewals if r.outcome == outcome])
        for outcome in ("churn", "contraction", "flat", "expansion")
    }

    assert by_outcome["churn"] < by_outcome["contraction"] < by_outcome["flat"]
    assert by_outcome["flat"] < by_outcome["expansion"]
    assert by_outcome["expansion"] - by_outcome["churn"] > 0.8


def test_losing_the_champion_lowers_health(plan: DemoPlan):
    # Months of the same accounts before and after their champion left.
    before, after = [], []
    for a in range(len(plan.accounts)):
        row, present = plan.health[a], plan.champion_present[a]
        active = ~np.isnan(row)
        lost = np.nonzero(active[1:] & active[:-1] & present[:-1] & ~present[1:])[0]
        m = lost[0] if len(lost) else -1
        if m >= 2 and m + 3 < len(row) and active[m - 2 : m + 4].all():
            before.append(row[m - 2 : m + 1].mean())
            after.append(row[m + 1 : m + 4].mean())

    assert len(before) >= 20
    assert np.mean(after) < np.mean(before) - 0.4


def test_unhealthy_accounts_raise_more_and_more_urgent_tickets_and_rate_them_lower(plan: DemoPlan):
    mean_health = np.nanmean(plan.health, axis=1)
    low = mean_health < np.nanpercentile(mean_health, 25)
    high = mean_health > np.nanpercentile(mean_health, 75)

    def stats(mask: np.ndarray) -> tuple[float, float, float]:
        accounts = [a for a in plan.accounts if mask[a.index] and a.tier == "mid_market"]
        months = sum(int(np.sum(~np.isnan(plan.health[a.index]))) for a in accounts)
        tickets = [t for a in accounts for t in a.tickets]
        urgent = sum(t.priority in ("urgent", "high") for t in tickets) / len(tickets)
        csat = np.mean([t.satisfaction for t in tickets if t.satisfaction])
        return len(tickets) / months, urgent, float(csat)

    low_rate, low_urgent, low_csat = stats(low)
    high_rate, high_urgent, high_csat = stats(high)

    assert low_rate > 1.5 * high_rate
    assert low_urgent > high_urgent
    assert low_csat < high_csat - 0.5


def test_a_lighter_activity_writes_fewer_tickets_and_touches_of_the_same_customers(plan: DemoPlan):
    light = build_plan(seed=3, accounts=400, today=TODAY, scale=0.05, activity=0.25)

    # The same customers (drawn before the simulation); the process then runs on fewer draws.
    same = [(a.name, a.tier, a.start_day, a.seats) for a in plan.accounts]
    assert [(a.name, a.tier, a.start_day, a.seats) for a in light.accounts] == same
    tickets = sum(len(a.tickets) for a in plan.accounts), sum(len(a.tickets) for a in light.accounts)
    assert 0.15 < tickets[1] / tickets[0] < 0.35
    touches = [
        sum(1 for a in p.accounts for i in a.interactions if i.kind in ("call", "email", "meeting"))
        for p in (plan, light)
    ]
    assert 0.15 < touches[1] / touches[0] < 0.35
    with pytest.raises(ValueError, match="activity"):
        build_plan(seed=3, accounts=400, today=TODAY, activity=0)


def test_the_history_every_few_weeks_spans_the_same_period():
    from tandem.health.demo import demo_dates

    default, sparse = demo_dates(TODAY), demo_dates(TODAY, every_days=63)
    assert len(default) == 45 and len(sparse) == 17  # every 21 or 63 days, plus the trends' 7 and 30
    assert default[0] == sparse[0] == TODAY - np.timedelta64(882, "D").astype(object)
    assert default[-1] == sparse[-1] == TODAY
