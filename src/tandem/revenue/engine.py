# ruff: noqa: RUF002, RUF003 - mathematical notation (α, β, ×, −) is intended
"""MRR movements and retention from subscription history: pure functions on plain data.

Definitions (docs/revenue.md has the long version):

* A term contributes its MRR on every day from ``start`` to ``end`` inclusive (evergreen: no end)
  when its status is active, ended or canceled (ended and canceled terms were paid while they ran).
  Trialing terms contribute nothing. A *paused* term contributes nothing but keeps the account a
  customer: a pause is a contraction to zero and the resume an expansion, not churn + reactivation.
* An account's MRR on a day is the sum of its terms' MRR × the exchange rate of their currency,
  rounded once to cents (ROUND_HALF_UP), exactly like ``account_refresh_revenue``.
* Every report converts at **one** rate per currency: the rate valid on the report's last day
  (constant currency), so opening + movements = closing to the cent and exchange-rate drift never
  shows up as expansion or churn. A customer who changes currency moves by the difference of the
  two converted amounts (expansion or contraction).
* Each change of an account's MRR from one day to the next is one movement, dated on the first day
  of the new amount: *new* (first revenue ever), *reactivation* (revenue again after having churned),
  *expansion*, *contraction*, *churn* (no revenue and no paused term left).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from tandem.core.money import to_cents

ZERO = Decimal("0.00")
REVENUE_STATUSES = frozenset({"active", "ended", "canceled"})
PAUSED_STATUS = "paused"


@dataclass(frozen=True)
class TermRow:
    """One contract term as the engine needs it (MRR in the term's own currency)."""

    account_id: int
    currency: str
    start: dt.date
    end: dt.date | None
    status: str
    mrr: Decimal


@dataclass(frozen=True)
class AccountState:
    """An account's revenue from ``day`` until its next state change."""

    day: dt.date
    mrr: Decimal  # reporting currency, cents
    is_customer: bool  # paying, or paused


@dataclass
class AccountTimeline:
    """The step function of an account's MRR: states at each change, ascending."""

    account_id: int
    states: list[AccountState]
    _days: list[dt.date] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._days = [s.day for s in self.states]

    def at(self, day: dt.date) -> AccountState:
        """The state on ``day`` (not a customer before the first term)."""
        index = bisect.bisect_right(self._days, day) - 1
        if index < 0:
            return AccountState(day=day, mrr=ZERO, is_customer=False)
        return self.states[index]

    def first_revenue_day(self) -> dt.date | None:
        return next((s.day for s in self.states if s.mrr > 0), None)


class MissingRate(Exception):
    def __init__(self, currencies: set[str]) -> None:
        super().__init__(", ".join(sorted(currencies)))
        self.currencies = currencies


def build_timelines(terms: Iterable[TermRow], rates: Mapping[str, Decimal]) -> dict[int, AccountTimeline]:
    """One timeline per account, converting every term at ``rates`` (currency -> reporting)."""
    by_account: dict[int, list[TermRow]] = {}
    missing: set[str] = set()
    for term in terms:
        if term.status not in REVENUE_STATUSES and term.status != PAUSED_STATUS:
            continue  # trialing: neither revenue nor a customer yet
        if term.status in REVENUE_STATUSES and term.currency not in rates:
            missing.add(term.currency)
        by_account.setdefault(term.account_id, []).append(term)
    if missing:
        raise MissingRate(missing)

    timelines: dict[int, AccountTimeline] = {}
    for account_id, rows in by_account.items():
        breaks = sorted({r.start for r in rows} | {r.end + dt.timedelta(days=1) for r in rows if r.end})
        states: list[AccountState] = []
        previous = (ZERO, False)
        for day in breaks:
            exact = ZERO
            customer = False
            for r in rows:
                if r.start <= day and (r.end is None or r.end >= day):
                    customer = True
                    if r.status in REVENUE_STATUSES:
                        exact += r.mrr * rates[r.currency]
            state = (to_cents(exact), customer)
            if state != previous:
                states.append(AccountState(day=day, mrr=state[0], is_customer=state[1]))
                previous = state
        timelines[account_id] = AccountTimeline(account_id=account_id, states=states)
    return timelines


MOVEMENT_KINDS = ("new", "expansion", "reactivation", "contraction", "churn")


@dataclass(frozen=True)
class Movement:
    account_id: int
    day: dt.date
    kind: str
    amount: Decimal  # signed: positive for new/expansion/reactivation, negative otherwise


def classify(before: AccountState, after: AccountState, *, had_revenue_before: bool) -> str | None:
    """The kind of the change from ``before`` to ``after`` (None when MRR did not change)."""
    if after.mrr == before.mrr:
        return None
    if before.mrr == 0:
        if before.is_customer:  # resuming after a pause
            return "expansion"
        return "reactivation" if had_revenue_before else "new"
    if after.mrr == 0:
        return "contraction" if after.is_customer else "churn"
    return "expansion" if after.mrr > before.mrr else "contraction"


def movements_between(timeline: AccountTimeline, start: dt.date, end: dt.date) -> list[Movement]:
    """Every movement of one account dated in ``[start, end]``."""
    result: list[Movement] = []
    previous = AccountState(day=dt.date.min, mrr=ZERO, is_customer=False)
    had_revenue = False
    for state in timeline.states:
        if state.day > end:
            break
        if state.day >= start:
            kind = classify(previous, state, had_revenue_before=had_revenue)
            if kind:
                result.append(Movement(timeline.account_id, state.day, kind, state.mrr - previous.mrr))
        had_revenue = had_revenue or state.mrr > 0
        previous = state
    return result


@dataclass
class PeriodSummary:
    """Revenue retention of a set of accounts over ``[start, end]`` (reporting currency)."""

    start: dt.date
    end: dt.date
    opening_mrr: Decimal = ZERO
    new: Decimal = ZERO
    expansion: Decimal = ZERO
    reactivation: Decimal = ZERO
    contraction: Decimal = ZERO  # positive amounts lost
    churn: Decimal = ZERO  # positive amounts lost
    closing_mrr: Decimal = ZERO
    opening_customers: int = 0
    closing_customers: int = 0
    new_customers: int = 0
    reactivated_customers: int = 0
    churned_customers: int = 0  # of the opening customers, not customers at the end
    # Opening cohort (customers paying at the start) measured at the end:
    cohort_closing_mrr: Decimal = ZERO  # their MRR at the end (for NRR)
    cohort_retained_mrr: Decimal = ZERO  # sum of min(end, start) (for GRR)
    # Movement amounts that came from accounts of the opening cohort only:
    cohort_contraction: Decimal = ZERO
    cohort_churn: Decimal = ZERO

    @property
    def net_movement(self) -> Decimal:
        return self.new + self.expansion + self.reactivation - self.contraction - self.churn

    @property
    def opening_arr(self) -> Decimal:
        return self.opening_mrr * 12

    @property
    def closing_arr(self) -> Decimal:
        return self.closing_mrr * 12

    @property
    def logo_churn_rate(self) -> Decimal | None:
        """Opening customers who are no longer customers at the end ÷ opening customers."""
        if not self.opening_customers:
            return None
        return Decimal(self.churned_customers) / Decimal(self.opening_customers)

    @property
    def gross_revenue_churn_rate(self) -> Decimal | None:
        """(Contraction + churn MRR of the opening customers) ÷ opening MRR."""
        if not self.opening_mrr:
            return None
        return (self.cohort_contraction + self.cohort_churn) / self.opening_mrr

    @property
    def grr(self) -> Decimal | None:
        """Σ min(MRR at end, MRR at start) over opening customers ÷ opening MRR."""
        if not self.opening_mrr:
            return None
        return self.cohort_retained_mrr / self.opening_mrr

    @property
    def nrr(self) -> Decimal | None:
        """Σ MRR at end over opening customers ÷ opening MRR."""
        if not self.opening_mrr:
            return None
        return self.cohort_closing_mrr / self.opening_mrr

    def add(self, other: PeriodSummary) -> None:
        for name in (
            "opening_mrr",
            "new",
            "expansion",
            "reactivation",
            "contraction",
            "churn",
            "closing_mrr",
            "opening_customers",
            "closing_customers",
            "new_customers",
            "reactivated_customers",
            "churned_customers",
            "cohort_closing_mrr",
            "cohort_retained_mrr",
            "cohort_contraction",
            "cohort_churn",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# Movement kinds as small integers for the vectorised summaries (0: the MRR did not change).
_NONE, _NEW, _EXPANSION, _REACTIVATION, _CONTRACTION, _CHURN = range(6)
_DAY_SPAN = 10_000_000  # larger than any date's ordinal: one int64 key per (account, day)


@dataclass
class StateArrays:
    """Every account's states as parallel NumPy arrays, sorted by account then day.

    Each state carries the movement that led to it (``classify`` of the previous state and this
    one), so a period's movements are the states dated inside it. MRR is in whole cents (int64):
    sums are exact and the summaries of tens of thousands of accounts take milliseconds.
    """

    account_ids: np.ndarray  # (accounts,) the account id of each index
    account: np.ndarray  # (states,) account index
    key: np.ndarray  # (states,) account index * _DAY_SPAN + day ordinal, ascending
    day: np.ndarray  # (states,) day ordinal
    mrr: np.ndarray  # (states,) cents
    customer: np.ndarray  # (states,) bool
    kind: np.ndarray  # (states,) movement kind
    amount: np.ndarray  # (states,) signed cents of the movement

    @property
    def accounts(self) -> int:
        return len(self.account_ids)

    def at(self, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """(MRR cents, is customer) of every account on ``day``."""
        indexes = np.arange(self.accounts, dtype=np.int64)
        if not len(self.key):
            return np.zeros(self.accounts, dtype=np.int64), np.zeros(self.accounts, dtype=bool)
        found = np.searchsorted(self.key, indexes * _DAY_SPAN + day.toordinal(), side="right") - 1
        clipped = np.clip(found, 0, None)
        valid = (found >= 0) & (self.account[clipped] == indexes)
        return np.where(valid, self.mrr[clipped], 0), np.where(valid, self.customer[clipped], False)


def state_arrays(timelines: Iterable[AccountTimeline]) -> StateArrays:
    """The states of ``timelines`` with each one's movement, classified as ``classify`` does."""
    ids: list[int] = []
    account: list[int] = []
    day: list[int] = []
    mrr: list[int] = []
    customer: list[bool] = []
    kind: list[int] = []
    amount: list[int] = []
    codes = {None: _NONE, "new": _NEW, "expansion": _EXPANSION, "reactivation": _REACTIVATION}
    codes |= {"contraction": _CONTRACTION, "churn": _CHURN}
    for index, timeline in enumerate(timelines):
        ids.append(timeline.account_id)
        previous = AccountState(day=dt.date.min, mrr=ZERO, is_customer=False)
        had_revenue = False
        for state in timeline.states:
            account.append(index)
            day.append(state.day.toordinal())
            mrr.append(int(state.mrr * 100))
            customer.append(state.is_customer)
            kind.append(codes[classify(previous, state, had_revenue_before=had_revenue)])
            amount.append(int((state.mrr - previous.mrr) * 100))
            had_revenue = had_revenue or state.mrr > 0
            previous = state
    account_array = np.array(account, dtype=np.int64)
    day_array = np.array(day, dtype=np.int64)
    return StateArrays(
        account_ids=np.array(ids, dtype=np.int64),
        account=account_array,
        key=account_array * _DAY_SPAN + day_array,
        day=day_array,
        mrr=np.array(mrr, dtype=np.int64),
        customer=np.array(customer, dtype=bool),
        kind=np.array(kind, dtype=np.int8),
        amount=np.array(amount, dtype=np.int64),
    )


def _cents(value: np.integer | int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def summarise_states(
    arrays: StateArrays, start: dt.date, end: dt.date, members: np.ndarray | None = None
) -> PeriodSummary:
    """Opening, movements, closing and the retention ratios of ``[start, end]``.

    ``members`` (a boolean array over the accounts) restricts the summary to a group.
    """
    s = PeriodSummary(start=start, end=end)
    opening_mrr, opening_customer = arrays.at(start - dt.timedelta(days=1))
    closing_mrr, closing_customer = arrays.at(end)
    if members is None:
        members = np.ones(arrays.accounts, dtype=bool)
    in_cohort = members & (opening_mrr > 0)
    s.opening_mrr = _cents(opening_mrr[members].sum())
    s.closing_mrr = _cents(closing_mrr[members].sum())
    s.opening_customers = int((opening_customer & members).sum())
    s.closing_customers = int((closing_customer & members).sum())
    s.churned_customers = int((opening_customer & ~closing_customer & members).sum())
    s.cohort_closing_mrr = _cents(closing_mrr[in_cohort].sum())
    s.cohort_retained_mrr = _cents(np.minimum(closing_mrr, opening_mrr)[in_cohort].sum())
    inside = (arrays.day >= start.toordinal()) & (arrays.day <= end.toordinal()) & members[arrays.account]
    cohort = in_cohort[arrays.account]

    def moved(code: int, *, cohort_only: bool = False) -> np.ndarray:
        mask = inside & (arrays.kind == code)
        return mask & cohort if cohort_only else mask

    s.new = _cents(arrays.amount[moved(_NEW)].sum())
    s.new_customers = int(moved(_NEW).sum())
    s.reactivation = _cents(arrays.amount[moved(_REACTIVATION)].sum())
    s.reactivated_customers = int(moved(_REACTIVATION).sum())
    s.expansion = _cents(arrays.amount[moved(_EXPANSION)].sum())
    s.contraction = -_cents(arrays.amount[moved(_CONTRACTION)].sum())
    s.churn = -_cents(arrays.amount[moved(_CHURN)].sum())
    s.cohort_contraction = -_cents(arrays.amount[moved(_CONTRACTION, cohort_only=True)].sum())
    s.cohort_churn = -_cents(arrays.amount[moved(_CHURN, cohort_only=True)].sum())
    return s


def month_starts(start: dt.date, end: dt.date, months: int = 1) -> list[tuple[dt.date, dt.date]]:
    """Consecutive periods of ``months`` calendar months covering ``[start, end]`` (clipped)."""
    periods: list[tuple[dt.date, dt.date]] = []
    cursor = start.replace(day=1)
    if months == 3:
        cursor = cursor.replace(month=(cursor.month - 1) // 3 * 3 + 1)
    elif months == 12:
        cursor = cursor.replace(month=1)
    while cursor <= end:
        year, month = divmod(cursor.month - 1 + months, 12)
        following = dt.date(cursor.year + year, month + 1, 1)
        periods.append((max(cursor, start), min(following - dt.timedelta(days=1), end)))
        cursor = following
    return periods
