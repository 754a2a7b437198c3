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


def summarise(timelines: Iterable[AccountTimeline], start: dt.date, end: dt.date) -> PeriodSummary:
    """Opening, movements, closing and the retention ratios of ``[start, end]``."""
    summary = PeriodSummary(start=start, end=end)
    for timeline in timelines:
        summary.add(summarise_account(timeline, start, end))
    return summary


def summarise_account(timeline: AccountTimeline, start: dt.date, end: dt.date) -> PeriodSummary:
    s = PeriodSummary(start=start, end=end)
    opening = timeline.at(start - dt.timedelta(days=1))
    closing = timeline.at(end)
    s.opening_mrr, s.closing_mrr = opening.mrr, closing.mrr
    in_cohort = opening.mrr > 0
    s.opening_customers = int(opening.is_customer)
    s.closing_customers = int(closing.is_customer)
    if opening.is_customer and not closing.is_customer:
        s.churned_customers = 1
    for m in movements_between(timeline, start, end):
        if m.kind == "new":
            s.new += m.amount
            s.new_customers += 1
        elif m.kind == "reactivation":
            s.reactivation += m.amount
            s.reactivated_customers += 1
        elif m.kind == "expansion":
            s.expansion += m.amount
        elif m.kind == "contraction":
            s.contraction -= m.amount
            if in_cohort:
                s.cohort_contraction -= m.amount
        else:
            s.churn -= m.amount
            if in_cohort:
                s.cohort_churn -= m.amount
    if in_cohort:
        s.cohort_closing_mrr = closing.mrr
        s.cohort_retained_mrr = min(closing.mrr, opening.mrr)
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
