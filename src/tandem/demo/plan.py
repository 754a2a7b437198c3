"""The demo plan: everything the builder will write, decided in memory before any write.

Days are integers counted from ``Calendar.start`` (the first day of the history), so the
simulation and the vectorised event generator share one cheap time axis.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import numpy as np
from numpy.random import PCG64, Generator, SeedSequence

from tandem.demo.catalog import HISTORY_YEARS, Market


def stream(seed: int, name: str) -> Generator:
    """An independent, reproducible random stream per purpose, so adding draws to one phase
    does not shift every number drawn after it in another."""
    return Generator(PCG64(SeedSequence([seed, zlib.crc32(name.encode())])))


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Calendar:
    """The history window: ``HISTORY_YEARS`` whole months before today's month, plus that month."""

    today: dt.date
    start: dt.date
    month_starts: np.ndarray  # day numbers of each month's first day, plus the month after today's

    @classmethod
    def ending(cls, today: dt.date) -> Calendar:
        start = add_months(today.replace(day=1), -12 * HISTORY_YEARS)
        months = 12 * HISTORY_YEARS + 1
        starts = [(add_months(start, m) - start).days for m in range(months + 1)]
        return cls(today=today, start=start, month_starts=np.array(starts, dtype=np.int64))

    @property
    def days(self) -> int:
        """Day number of today; days 0 .. days-1 are complete days of history."""
        return (self.today - self.start).days

    @property
    def months(self) -> int:
        return len(self.month_starts) - 1

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def month_of(self, day: int) -> int:
        return int(np.searchsorted(self.month_starts, day, side="right")) - 1

    def month_date(self, month: int) -> dt.date:
        return add_months(self.start, month)

    @cached_property
    def _midnight(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    def at(self, day: int, hour: float, utc_offset: int) -> dt.datetime:
        """A UTC datetime for a local ``hour`` of ``day`` in a market ``utc_offset`` hours from UTC."""
        return self._midnight + dt.timedelta(days=int(day), hours=float(hour) - utc_offset)


@dataclass
class ContactPlan:
    slot: int  # position in the account; also the contact's product-user slot (0 = heaviest user)
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    roles: tuple[str, ...]
    joined_day: int
    left_day: int | None = None
    is_primary: bool = False

    def present(self, day: int) -> bool:
        return self.joined_day <= day and (self.left_day is None or day < self.left_day)


@dataclass
class ItemPlan:
    code: str
    quantity: int
    unit_price: Decimal  # per unit per billing period, in the account currency


@dataclass
class TermPlan:
    start_day: int
    end_day: int | None  # inclusive; None for an evergreen monthly contract
    billing_period: int  # months
    seats: int
    plan_code: str
    items: list[ItemPlan]
    auto_renew: bool
    status: str = "active"

    @property
    def mrr(self) -> Decimal:
        return sum((i.quantity * i.unit_price for i in self.items), Decimal("0")) / self.billing_period


@dataclass
class TicketPlan:
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    priority: str
    status: str
    subject: str
    satisfaction: int | None
    contact_slot: int | None


@dataclass
class InteractionPlan:
    kind: str
    occurred_at: dt.datetime
    subject: str
    summary: str
    duration_minutes: int | None
    author: str  # username
    users: tuple[str, ...]
    contact_slots: tuple[int, ...]


@dataclass
class RenewalTruth:
    """One renewal decision of the hidden process (the ground truth a churn model should find)."""

    account: int
    renewal_day: int
    decided_day: int
    health_at_decision: float
    p_churn: float
    outcome: str  # churn, contraction, flat, expansion
    seats_before: int
    seats_after: int
    realized: bool  # False: decided, but the renewal date is still ahead of today


@dataclass
class AccountPlan:
    index: int
    external_id: str
    name: str
    domain: str
    market: Market
    tier: str
    industry: str
    csm: str
    am: str
    start_day: int
    plan_code: str
    seats: int
    term_months: int  # 0: evergreen monthly contract
    billing_period: int
    addons: tuple[str, ...]
    touch_rate: float  # expected CSM touches a month
    onboarding_quality: float
    parent_index: int | None = None
    contacts: list[ContactPlan] = field(default_factory=list)
    terms: list[TermPlan] = field(default_factory=list)
    tickets: list[TicketPlan] = field(default_factory=list)
    interactions: list[InteractionPlan] = field(default_factory=list)
    decision_day: int | None = None  # when a churn was decided (usage winds down from here)
    churn_day: int | None = None  # first day without a contract
    lifecycle: str = "onboarding"

    def end_day(self, today: int) -> int:
        """First day after the observed life of the account."""
        return min(self.churn_day, today) if self.churn_day is not None else today


@dataclass
class DemoPlan:
    seed: int
    calendar: Calendar
    accounts: list[AccountPlan]
    rates: dict[str, list[tuple[dt.date, Decimal]]]
    # Monthly ground truth, accounts x months; NaN / 0 / False while an account is not a customer.
    health: np.ndarray
    seats: np.ndarray
    touches: np.ndarray
    champion_present: np.ndarray
    sponsor_present: np.ndarray
    winding_down: np.ndarray
    renewals: list[RenewalTruth]
    events_target: int
    # Share of the tickets and CSM touches that are written (the hidden process is the same; 1.0 writes all).
    activity: float = 1.0

    def rate_on(self, currency: str, day: int) -> Decimal:
        """Rate of ``currency`` to USD valid on ``day`` (the first month's rate before the history)."""
        if currency == "USD":
            return Decimal("1")
        history = self.rates[currency]
        month = max(0, self.calendar.month_of(day))
        return history[min(month, len(history) - 1)][1]
