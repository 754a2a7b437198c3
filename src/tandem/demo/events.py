"""Product usage events, generated vectorised with numpy from the hidden health process.

The expected number of events of an account on a day is
``seats^0.6 * exp(0.55 * health) * weekday * holidays * onboarding ramp * wind-down``, scaled so
the whole demo has ``DemoPlan.events_target`` events; the actual count is Poisson. Healthier
accounts also spread their usage over more features (``Feature.health_slope``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from tandem.demo.catalog import FEATURES
from tandem.demo.plan import DemoPlan, stream

USAGE_HEALTH = 0.55  # log usage per unit of health
SEAT_ELASTICITY = 0.6  # events grow slower than seats: big customers have many light users
WEEKDAY = np.array([1.0, 1.08, 1.1, 1.05, 0.9, 0.18, 0.12])  # Monday .. Sunday
ONBOARDING_RAMP_DAYS = 25.0  # usage reaches ~63% of its level after this many days
WIND_DOWN_FLOOR = 0.4  # a leaving customer's usage falls to this share by the end of the contract
BATCH_EVENTS = 400_000  # rows per Arrow batch appended to the event store

_PROPERTIES = [p for f in FEATURES for p in f.properties]
_PROP_OFFSET = np.cumsum([0] + [len(f.properties) for f in FEATURES])[:-1]
_PROP_COUNT = np.array([len(f.properties) for f in FEATURES])
_AUTOMATED = np.array([f.automated for f in FEATURES])
_API = [f.name for f in FEATURES].index("api_call")
_SYNC = [f.name for f in FEATURES].index("integration_sync")


def _calendar_factor(plan: DemoPlan) -> np.ndarray:
    """Weekday pattern and the end-of-year holiday dip, per day of history."""
    cal = plan.calendar
    factor = np.empty(cal.days)
    for day in range(cal.days):
        date = cal.start + dt.timedelta(days=day)
        holiday = (date.month == 12 and date.day >= 24) or (date.month == 1 and date.day == 1)
        factor[day] = WEEKDAY[date.weekday()] * (0.45 if holiday else 1.0)
    return factor


def _account_days(plan: DemoPlan) -> tuple[np.ndarray, np.ndarray]:
    """(account index, day) of every day each account was a customer, account by account."""
    today = plan.calendar.days
    first = np.array([max(a.start_day, 0) for a in plan.accounts])
    end = np.array([a.end_day(today) for a in plan.accounts])
    lengths = np.maximum(end - first, 0)
    account = np.repeat(np.arange(len(plan.accounts)), lengths)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    day = np.arange(lengths.sum()) - offsets + np.repeat(first, lengths)
    return account, day


def expected_daily_events(plan: DemoPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Account index, day and expected events (already scaled to the target) per account-day."""
    account, day = _account_days(plan)
    month_of_day = np.searchsorted(plan.calendar.month_starts, np.arange(plan.calendar.days), side="right") - 1
    month = month_of_day[day]
    health = plan.health[account, month]
    seats = plan.seats[account, month].astype(float)
    start = np.array([a.start_day for a in plan.accounts])[account]
    ramp = 1.0 - 0.9 * np.exp(-(day - start) / ONBOARDING_RAMP_DAYS)
    # Once a customer has decided to leave, usage fades towards the end of the contract.
    decided = np.array([a.decision_day if a.decision_day is not None else -1 for a in plan.accounts])
    renewal = _leave_days(plan)
    d0, d1 = decided[account], renewal[account]
    progress = np.where(d0 >= 0, np.clip((day - d0) / np.maximum(d1 - d0, 1), 0.0, 1.0), 0.0)
    wind_down = 1.0 - (1.0 - WIND_DOWN_FLOOR) * progress
    rate = (
        seats**SEAT_ELASTICITY
        * np.exp(USAGE_HEALTH * np.nan_to_num(health))
        * _calendar_factor(plan)[day]
        * ramp
        * wind_down
    )
    rate *= plan.events_target / rate.sum()
    return account, day, rate


def _leave_days(plan: DemoPlan) -> np.ndarray:
    """Per account, the day it stops being a customer: its churn day, else the renewal day of its
    first churn decision still ahead, else today."""
    # One pass over the renewals: scanning them once per account was quadratic (minutes at 100,000).
    pending: dict[int, int] = {}
    for r in plan.renewals:
        if r.outcome == "churn":
            pending.setdefault(r.account, r.renewal_day)
    return np.array(
        [a.churn_day if a.churn_day is not None else pending.get(a.index, plan.calendar.days) for a in plan.accounts]
    )


def generate(
    plan: DemoPlan,
    *,
    account_ids: np.ndarray,
    contact_ids: list[np.ndarray],
) -> Iterator[pa.Table]:
    """Arrow batches of events. ``account_ids[i]`` is the database id of account i and
    ``contact_ids[i][slot]`` that of its contact in ``slot``."""
    rng = stream(plan.seed, "events")
    account, day, rate = expected_daily_events(plan)
    counts = rng.poisson(rate)
    # Feature mix per account-month: healthier accounts use more of the product.
    slopes = np.array([f.health_slope for f in FEATURES])
    weights = np.array([f.weight for f in FEATURES])
    mix = weights * np.exp(np.nan_to_num(plan.health)[..., None] * slopes)
    cum_mix = np.cumsum(mix / mix.sum(axis=-1, keepdims=True), axis=-1)
    month_of_day = np.searchsorted(plan.calendar.month_starts, np.arange(plan.calendar.days), side="right") - 1
    # People: slot k of an account is its k-th contact while they are at the company.
    joined, left, contact_pk = _contact_table(plan, contact_ids)
    base_us = int(dt.datetime.combine(plan.calendar.start, dt.time(), dt.UTC).timestamp() * 1e6)
    offsets = np.array([a.market.utc_offset for a in plan.accounts])
    prefixes = [a.external_id for a in plan.accounts]

    # Batches of whole accounts, ~BATCH_EVENTS rows each.
    per_account = np.bincount(account, weights=counts, minlength=len(plan.accounts))
    bounds = np.searchsorted(np.cumsum(per_account), np.arange(BATCH_EVENTS, per_account.sum(), BATCH_EVENTS))
    edges = np.unique(np.concatenate([[0], bounds + 1, [len(plan.accounts)]]))
    row_of_account = np.searchsorted(account, edges)
    for lo, hi in itertools.pairwise(row_of_account):
        if hi <= lo:
            continue
        rows = np.repeat(np.arange(lo, hi), counts[lo:hi])
        n = len(rows)
        if not n:
            continue
        acc, dy = account[rows], day[rows]
        mon = month_of_day[dy]
        feature = (rng.random(n)[:, None] > cum_mix[acc, mon]).sum(axis=1)
        feature = np.minimum(feature, len(FEATURES) - 1)
        # Local business hours for people, any time of day for machines.
        hour = (
            np.where(
                _AUTOMATED[feature],
                rng.uniform(0, 24, n),
                np.clip(rng.normal(13.0, 2.6, n), 6.0, 22.99),
            )
            - offsets[acc]
        )
        ts = base_us + dy.astype(np.int64) * 86_400_000_000 + (hour * 3.6e9).astype(np.int64)
        # Who: a skewed draw over the account's active users; contacts hold the busiest slots.
        health = np.nan_to_num(plan.health[acc, mon])
        active = np.maximum(1, np.round(plan.seats[acc, mon] * (0.25 + 0.6 / (1 + np.exp(-1.2 * health)))))
        slot = np.minimum((active * rng.random(n) ** 1.7).astype(np.int64), 9_999)
        contact, slot = _contact_for(acc, slot, dy, joined, left, contact_pk)
        quantity = np.ones(n)
        quantity[feature == _API] = 1 + rng.poisson(15, (feature == _API).sum())
        syncs = feature == _SYNC
        quantity[syncs] = np.maximum(1, np.round(rng.lognormal(np.log(120), 1.0, syncs.sum())))
        prop = _PROP_OFFSET[feature] + (rng.random(n) * _PROP_COUNT[feature]).astype(np.int64)
        yield _table(account_ids[acc], contact, acc, slot, prefixes, feature, ts, quantity, prop)


def _contact_table(plan: DemoPlan, contact_ids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """accounts x max contacts arrays of joined day, left day and database id (-1: no contact)."""
    width = max(len(a.contacts) for a in plan.accounts)
    joined = np.full((len(plan.accounts), width), np.iinfo(np.int64).max)
    left = np.full((len(plan.accounts), width), np.iinfo(np.int64).max)
    pk = np.full((len(plan.accounts), width), -1)
    for a in plan.accounts:
        for c in a.contacts:
            joined[a.index, c.slot] = c.joined_day
            left[a.index, c.slot] = c.left_day if c.left_day is not None else np.iinfo(np.int64).max
            pk[a.index, c.slot] = contact_ids[a.index][c.slot]
    return joined, left, pk


def _contact_for(
    acc: np.ndarray,
    slot: np.ndarray,
    day: np.ndarray,
    joined: np.ndarray,
    left: np.ndarray,
    pk: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Contact id (-1 for none) per event; a slot whose contact was not at the company that day
    goes to an anonymous end user instead, so people who left stop generating usage."""
    width = joined.shape[1]
    in_table = slot < width
    clipped = np.minimum(slot, width - 1)
    here = in_table & (joined[acc, clipped] <= day) & (day < left[acc, clipped])
    contact = np.where(here, pk[acc, clipped], -1)
    slot = np.where(in_table & ~here, slot + width, slot)
    return contact, slot


def _table(
    account_pk: np.ndarray,
    contact: np.ndarray,
    acc: np.ndarray,
    slot: np.ndarray,
    prefixes: list[str],
    feature: np.ndarray,
    ts: np.ndarray,
    quantity: np.ndarray,
    prop: np.ndarray,
) -> pa.Table:
    # User ids repeat a lot, so they travel as a dictionary: only distinct ids become strings.
    keys, inverse = np.unique(acc.astype(np.int64) * 100_000 + slot, return_inverse=True)
    users = [f"{prefixes[k // 100_000]}-u{k % 100_000:04d}" for k in keys.tolist()]
    names = [f.name for f in FEATURES]
    return pa.table(
        {
            "account_id": pa.array(account_pk, pa.int64()),
            "contact_id": pa.array(contact, pa.int64(), mask=contact < 0),
            "user_id": pa.DictionaryArray.from_arrays(pa.array(inverse.astype(np.int32)), users),
            "event": pa.DictionaryArray.from_arrays(pa.array(feature.astype(np.int32)), names),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "quantity": pa.array(quantity, pa.float64()),
            "properties": pa.DictionaryArray.from_arrays(pa.array(prop.astype(np.int32)), _PROPERTIES),
        }
    )
