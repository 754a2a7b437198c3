"""Draws the demo company: who the customers are, then runs the hidden process for each.

Pure numpy and Python, no database: the same seed and today always give the same plan.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from tandem.demo.catalog import (
    BASE_RATES,
    EVENTS_PER_ACCOUNT,
    EXTERNAL_ID_PREFIX,
    INDUSTRIES,
    MARKETS,
    RATE_VOLATILITY,
    TEAM,
    TIER_WEIGHTS,
    TIERS,
)
from tandem.demo.names import NameMaker
from tandem.demo.plan import AccountPlan, Calendar, DemoPlan, stream
from tandem.demo.simulation import TOUCH_NORM, AccountSimulator

ONBOARDING_SHARE = 0.05  # accounts that started in the last 60 days
LEGACY_SHARE = 0.25  # accounts that were already customers when the history starts
PARENT_SHARE = 0.2  # enterprise accounts that have subsidiaries among the customers

_SEATS = {  # log-normal median, sigma, min, max
    "enterprise": (350, 0.6, 100, 3000),
    "mid_market": (90, 0.5, 30, 400),
    "smb": (15, 0.6, 3, 60),
}
_PLANS = {  # starter, growth, enterprise
    "enterprise": (0.0, 0.15, 0.85),
    "mid_market": (0.10, 0.75, 0.15),
    "smb": (0.70, 0.30, 0.0),
}
_TERMS = {  # (term months, billing period, probability); term 0 = evergreen monthly
    "enterprise": ((12, 12, 0.65), (24, 12, 0.20), (36, 12, 0.15)),
    "mid_market": ((12, 12, 0.68), (12, 3, 0.22), (24, 12, 0.10)),
    "smb": ((0, 1, 0.30), (12, 12, 0.70)),
}
_ADDONS = {  # chance of advanced analytics, chance of premium support
    "enterprise": (0.6, 0.5),
    "mid_market": (0.35, 0.2),
    "smb": (0.15, 0.0),
}

Progress = Callable[[int], None]


def build_plan(
    *,
    seed: int,
    accounts: int,
    today: dt.date,
    scale: float = 1.0,
    activity: float = 1.0,
    advance: Progress | None = None,
) -> DemoPlan:
    """Everything the demo will contain, decided in memory.

    ``scale`` multiplies the usage events per account, ``activity`` the tickets and CSM touches
    written per account (see ``AccountSimulator``); large demos use less of both to build in time.
    """
    if accounts < 10:
        raise ValueError("the demo needs at least 10 accounts")
    if not 0 < activity <= 1:
        raise ValueError("activity must be in (0, 1]")
    cal = Calendar.ending(today)
    rng = stream(seed, "accounts")
    n, months = accounts, cal.months
    plan = DemoPlan(
        seed=seed,
        calendar=cal,
        accounts=[],
        rates=_exchange_rates(seed, cal),
        health=np.full((n, months), np.nan),
        seats=np.zeros((n, months), dtype=np.int64),
        touches=np.zeros((n, months), dtype=np.int64),
        champion_present=np.zeros((n, months), dtype=bool),
        sponsor_present=np.zeros((n, months), dtype=bool),
        winding_down=np.zeros((n, months), dtype=bool),
        renewals=[],
        events_target=int(EVENTS_PER_ACCOUNT * n * scale),
        activity=activity,
    )
    names = NameMaker(seed)

    # Exact tier counts (at least one of each) in a shuffled order, so small demos have them all.
    counts = np.maximum(1, np.round(np.array(TIER_WEIGHTS) * n).astype(int))
    counts[2] = n - counts[0] - counts[1]
    tiers = rng.permutation(np.repeat(np.arange(3), counts))
    weights = np.array([m.weight for m in MARKETS])
    market_idx = rng.choice(len(MARKETS), size=n, p=weights / weights.sum())
    start_days = _start_days(rng, n, cal.days)
    csms = [m for m in TEAM if m.role == "csm"]
    ams = [m for m in TEAM if m.role == "account_manager"]

    for i in range(n):
        tier = TIERS[tiers[i]]
        market = MARKETS[market_idx[i]]
        median, sigma, low, high = _SEATS[tier]
        seats = int(np.clip(round(rng.lognormal(np.log(median), sigma)), low, high))
        plan_code = ("starter", "growth", "enterprise")[rng.choice(3, p=_PLANS[tier])]
        options = _TERMS[tier]
        term_months, billing_period, _p = options[rng.choice(len(options), p=[o[2] for o in options])]
        analytics, support = _ADDONS[tier]
        addons = tuple(
            code
            for code, chance in (("advanced-analytics", analytics), ("premium-support", support))
            if rng.random() < chance
        )
        csm = csms[int(rng.integers(len(csms)))]
        name, domain = names.company(market)
        plan.accounts.append(
            AccountPlan(
                index=i,
                external_id=f"{EXTERNAL_ID_PREFIX}{i + 1:05d}",
                name=name,
                domain=domain,
                market=market,
                tier=tier,
                industry=INDUSTRIES[int(rng.integers(len(INDUSTRIES)))],
                csm=csm.username,
                am=ams[int(rng.integers(len(ams)))].username,
                start_day=int(start_days[i]),
                plan_code=plan_code,
                seats=seats,
                term_months=term_months,
                billing_period=billing_period,
                addons=addons,
                touch_rate=float(TOUCH_NORM[tier] * csm.diligence * rng.lognormal(0.0, 0.25)),
                onboarding_quality=float(rng.normal()),
            )
        )
    _link_subsidiaries(plan, rng, names)

    simulator = AccountSimulator(plan=plan, rng=stream(seed, "simulate"), names=names)
    for account in plan.accounts:
        simulator.simulate(account)
        if advance:
            advance(1)
    return plan


def _start_days(rng: np.random.Generator, n: int, today: int) -> np.ndarray:
    """Legacy customers before the history, a steady stream of new ones, and a fresh cohort
    still onboarding in the last 60 days."""
    onboarding = max(2, round(ONBOARDING_SHARE * n))
    legacy = round(LEGACY_SHARE * n)
    regular = n - onboarding - legacy
    days = np.concatenate(
        [
            rng.integers(-3 * 365, 0, size=legacy),
            rng.integers(0, today - 61, size=regular),
            rng.integers(today - 58, today - 2, size=onboarding),
        ]
    )
    return rng.permutation(days)


def _link_subsidiaries(plan: DemoPlan, rng: np.random.Generator, names: NameMaker) -> None:
    """Some enterprise customers also buy for subsidiaries abroad, which are accounts of their own
    whose health partly follows the parent's (same group culture, same budget decisions)."""
    enterprise = [a for a in plan.accounts if a.tier == "enterprise"]
    parents = enterprise[: max(1, round(PARENT_SHARE * len(enterprise)))]
    # By index: `a not in parents` compared whole dataclasses against every parent (quadratic).
    parent_indexes = {a.index for a in parents}
    pool = [a for a in plan.accounts if a.tier != "smb" and a.index not in parent_indexes]
    order = rng.permutation(len(pool))
    # How many accounts hold each name: a child's new name must not be any *other* account's.
    # (Building the set of every other name per child was quadratic: minutes at 100,000 accounts.)
    in_use = Counter(a.name for a in plan.accounts)
    taken = 0
    for parent in parents:
        for _ in range(int(rng.integers(1, 4))):
            if taken >= len(order):
                return
            child = pool[order[taken]]
            taken += 1
            child.parent_index = parent.index
            in_use[child.name] -= 1
            child.name = f"{parent.name} ({child.market.name})"
            suffix = 2
            while in_use[child.name] > 0:
                child.name = f"{parent.name} ({child.market.name} {suffix})"
                suffix += 1
            in_use[child.name] += 1
            names.register_company(child.name)
            child.onboarding_quality = 0.5 * parent.onboarding_quality + 0.5 * child.onboarding_quality


def _exchange_rates(seed: int, cal: Calendar) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """A monthly random walk of each currency against USD, one rate per month of history."""
    rng = stream(seed, "rates")
    rates: dict[str, list[tuple[dt.date, Decimal]]] = {}
    for currency, base in BASE_RATES.items():
        if currency == "USD":
            continue
        steps = rng.normal(0.0, RATE_VOLATILITY[currency], size=cal.months)
        steps[0] = 0.0
        walk = base * np.exp(np.cumsum(steps))
        rates[currency] = [(cal.month_date(m), Decimal(f"{walk[m]:.6g}")) for m in range(cal.months)]
    return rates
