# ruff: noqa: RUF002, RUF003 - mathematical notation (α, β, ×, −) is intended
"""Reads for revenue analytics: subscription history -> movements, retention, cohorts and CLV.

The database work is three queries (terms, accounts, exchange rates); everything else is the pure
engine in ``engine.py`` and the sBG model in ``sbg.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tandem.core.errors import DomainError, FieldError
from tandem.core.money import to_cents
from tandem.revenue.engine import (
    AccountTimeline,
    MissingRate,
    PeriodSummary,
    TermRow,
    build_timelines,
    month_starts,
    state_arrays,
    summarise_states,
)
from tandem.revenue.sbg import FitError, SbgFit, fit_sbg
from tandem.subscriptions.models import Subscription
from tandem.subscriptions.selectors import exchange_rates_as_of, reporting_currency

GROUP_FIELDS = {
    "tier": gettext_lazy("Tier"),
    "csm": gettext_lazy("CSM"),
    "am": gettext_lazy("Account manager"),
    "cohort": gettext_lazy("Start cohort (quarter)"),
    "currency": gettext_lazy("Currency"),
}
GRANULARITIES = {"month": 1, "quarter": 3, "year": 12}
MAX_PERIODS = 240  # twenty years of months: a table a person can read, and a bounded computation


@dataclass(frozen=True)
class AccountInfo:
    id: int
    name: str
    tier: str
    tier_label: str
    csm: str
    am: str
    currency: str


@dataclass
class RevenueBase:
    """Timelines of every account converted at the rates of ``rates_on``, plus what groups them."""

    rates_on: dt.date
    rates: dict[str, Decimal]
    timelines: dict[int, AccountTimeline]
    accounts: dict[int, AccountInfo]

    def group_of(self, account_id: int, by: str) -> str:
        info = self.accounts.get(account_id)
        if by == "cohort":
            first = self.timelines[account_id].first_revenue_day()
            return f"{first.year}-Q{(first.month - 1) // 3 + 1}" if first else "—"
        if info is None:
            return "—"
        return {"tier": info.tier_label, "csm": info.csm, "am": info.am, "currency": info.currency}[by]


def _user_label(first: str | None, last: str | None, username: str | None) -> str:
    if not username:
        return str(_("Unassigned"))
    full = f"{first or ''} {last or ''}".strip()
    return full or username


def revenue_base(*, rates_on: dt.date, account_ids: list[int] | None = None) -> RevenueBase:
    """Load the subscription history and convert it at the exchange rates valid on ``rates_on``."""
    from tandem.accounts.models import Account, Tier

    rates = exchange_rates_as_of(on=rates_on)
    terms_qs = Subscription.objects.all()
    accounts_qs = Account.objects.all()
    if account_ids is not None:
        terms_qs = terms_qs.filter(account_id__in=account_ids)
        accounts_qs = accounts_qs.filter(pk__in=account_ids)
    terms = [
        TermRow(account_id=a, currency=c, start=s, end=e, status=st, mrr=m)
        for a, c, s, e, st, m in terms_qs.values_list(
            "account_id", "currency", "start_date", "end_date", "status", "mrr"
        ).iterator(chunk_size=5000)
    ]
    try:
        timelines = build_timelines(terms, rates)
    except MissingRate as exc:
        raise DomainError(
            _("No exchange rate to the reporting currency."),
            [
                FieldError(
                    "currency",
                    _("No exchange rate for %(codes)s on %(date)s.")
                    % {"codes": ", ".join(sorted(exc.currencies)), "date": rates_on},
                )
            ],
        ) from None
    tiers = dict(Tier.choices)
    accounts = {
        row[0]: AccountInfo(
            id=row[0],
            name=row[1],
            tier=row[2],
            tier_label=str(tiers.get(row[2], row[2])),
            csm=_user_label(row[3], row[4], row[5]),
            am=_user_label(row[6], row[7], row[8]),
            currency=row[9],
        )
        for row in accounts_qs.values_list(
            "id",
            "name",
            "tier",
            "csm_owner__first_name",
            "csm_owner__last_name",
            "csm_owner__username",
            "am_owner__first_name",
            "am_owner__last_name",
            "am_owner__username",
            "currency",
        ).iterator(chunk_size=5000)
    }
    return RevenueBase(rates_on=rates_on, rates=rates, timelines=timelines, accounts=accounts)


@dataclass
class RevenueReport:
    """A range's totals, its breakdown by period and by group."""

    start: dt.date
    end: dt.date
    currency: str
    rates_on: dt.date
    by: str | None
    granularity: str
    total: PeriodSummary
    periods: list[PeriodSummary]
    groups: list[tuple[str, PeriodSummary]] = field(default_factory=list)


def _check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise DomainError(_("Invalid range."), [FieldError("to", _("The end must not be before the start."))])


def summary_options_check(*, start: dt.date, end: dt.date, by: str | None, granularity: str) -> None:
    """Refuse a range, grouping or period length the summary cannot give (a DomainError naming the field)."""
    _check_range(start, end)
    if by is not None and by not in GROUP_FIELDS:
        raise DomainError(
            _("Invalid grouping."),
            [FieldError("by", _("Choose one of: %(fields)s.") % {"fields": ", ".join(GROUP_FIELDS)})],
        )
    if granularity not in GRANULARITIES:
        raise DomainError(
            _("Invalid granularity."),
            [FieldError("granularity", _("Choose one of: %(v)s.") % {"v": ", ".join(GRANULARITIES)})],
        )
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months / GRANULARITIES[granularity] > MAX_PERIODS:
        raise DomainError(
            _("Invalid range."),
            [
                FieldError(
                    "from",
                    _("At most %(n)s periods: choose a shorter range or longer periods.") % {"n": MAX_PERIODS},
                )
            ],
        )


def revenue_summary(
    *,
    start: dt.date,
    end: dt.date,
    by: str | None = None,
    granularity: str = "month",
    account_ids: list[int] | None = None,
    base: RevenueBase | None = None,
) -> RevenueReport:
    """MRR movements, logo churn, gross revenue churn, GRR and NRR over ``[start, end]``.

    ``base`` is the history already loaded at the rates of ``end`` (the daily pipeline passes it).
    """
    summary_options_check(start=start, end=end, by=by, granularity=granularity)
    if base is None or base.rates_on != end:
        base = revenue_base(rates_on=end, account_ids=account_ids)
    timelines = list(base.timelines.values())
    arrays = state_arrays(timelines)
    report = RevenueReport(
        start=start,
        end=end,
        currency=reporting_currency(),
        rates_on=end,
        by=by,
        granularity=granularity,
        total=summarise_states(arrays, start, end),
        periods=[summarise_states(arrays, s, e) for s, e in month_starts(start, end, GRANULARITIES[granularity])],
    )
    if by:
        names = [base.group_of(timeline.account_id, by) for timeline in timelines]
        groups = sorted(set(names))
        index = {name: i for i, name in enumerate(groups)}
        codes = np.array([index[name] for name in names], dtype=np.int64)
        report.groups = [
            (name, summarise_states(arrays, start, end, members=codes == i)) for i, name in enumerate(groups)
        ]
    return report


# --- cohorts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortRow:
    """A start cohort: customers whose first revenue fell in one quarter, followed period by period."""

    label: str
    start: dt.date
    size: int
    starting_mrr: Decimal
    logos: list[int]  # customers at the end of period 0, 1, 2, ... (period 0 = the start quarter)
    mrr: list[Decimal]

    @property
    def logo_retention(self) -> list[float]:
        return [n / self.size for n in self.logos] if self.size else []

    @property
    def revenue_retention(self) -> list[float]:
        return [float(m / self.starting_mrr) for m in self.mrr] if self.starting_mrr else []


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, 1)


def cohort_table(
    *, today: dt.date, base: RevenueBase | None = None, by: str | None = None, group: str | None = None
) -> list[CohortRow]:
    """Quarterly start cohorts with logo and net revenue retention at each completed quarter end."""
    base = base or revenue_base(rates_on=today)
    members: dict[dt.date, list[AccountTimeline]] = defaultdict(list)
    for timeline in base.timelines.values():
        if by and group is not None and base.group_of(timeline.account_id, by) != group:
            continue
        first = timeline.first_revenue_day()
        if first is not None:
            members[_quarter_start(first)].append(timeline)
    rows: list[CohortRow] = []
    for start in sorted(members):
        cohort = members[start]
        logos: list[int] = []
        mrr: list[Decimal] = []
        k = 0
        while True:
            period_end = _add_months(start, 3 * (k + 1)) - dt.timedelta(days=1)
            if period_end > today:
                break
            states = [t.at(period_end) for t in cohort]
            logos.append(sum(1 for s in states if s.is_customer))
            mrr.append(sum((s.mrr for s in states), Decimal("0")))
            k += 1
        if not logos:
            continue
        starting = sum((t.at(first).mrr for t in cohort if (first := t.first_revenue_day()) is not None), Decimal("0"))
        rows.append(
            CohortRow(
                label=f"{start.year}-Q{(start.month - 1) // 3 + 1}",
                start=start,
                size=len(cohort),
                starting_mrr=starting,
                logos=logos,
                mrr=mrr,
            )
        )
    return rows


def survivor_counts(rows: list[CohortRow]) -> list[list[int]]:
    """sBG input, in years: each quarterly cohort's size, then its customers 1, 2, 3 ... years on.

    Most contracts renew once a year, so the renewal opportunity the model describes is annual:
    survivors are counted at the end of the same quarter one, two, ... years after the start
    quarter (``logos[4k]``), i.e. after 12 to 15 months of tenure for year one.
    """
    return [[row.size, *row.logos[4::4]] for row in rows]


@dataclass(frozen=True)
class ClvResult:
    """Projected retention and lifetime value of a segment from its fitted sBG model."""

    group: str
    fit: SbgFit | None
    error: str
    customers: int
    mrr: Decimal
    margin: Decimal
    discount_rate: Decimal  # annual
    projection: list[float]  # projected S(t) for t = 0..horizon years
    clv_new: Decimal | None  # a new customer, first year included
    clv_existing_avg: Decimal | None  # residual value of today's customers, average

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12


def clv_settings() -> tuple[Decimal, Decimal]:
    margin = Decimal(str(getattr(settings, "TANDEM_CLV_MARGIN", "0.80")))
    rate = Decimal(str(getattr(settings, "TANDEM_CLV_DISCOUNT_RATE", "0.10")))
    return margin, rate


def _renewals_survived(timeline: AccountTimeline, today: dt.date) -> int:
    first = timeline.first_revenue_day()
    if first is None:
        return 0
    months = (today.year - first.year) * 12 + today.month - first.month - (today.day < first.day)
    return max(months // 12, 0)


def segment_clv(
    *,
    today: dt.date,
    by: str = "tier",
    horizon: int = 5,
    margin: Decimal | None = None,
    discount_rate: Decimal | None = None,
) -> list[ClvResult]:
    """sBG fit per segment (annual renewals); CLV = margin × annual revenue × discounted lifetime in years."""
    default_margin, default_rate = clv_settings()
    margin = default_margin if margin is None else margin
    discount_rate = default_rate if discount_rate is None else discount_rate
    d = float(discount_rate)
    base = revenue_base(rates_on=today)
    groups = sorted({base.group_of(a, by) for a in base.timelines})
    results: list[ClvResult] = []
    for group in [str(_("All accounts")), *groups]:
        is_all = group == str(_("All accounts"))
        rows = cohort_table(today=today, base=base, by=None if is_all else by, group=None if is_all else group)
        current = [
            t
            for t in base.timelines.values()
            if (is_all or base.group_of(t.account_id, by) == group) and t.at(today).mrr > 0
        ]
        mrr = sum((t.at(today).mrr for t in current), Decimal("0"))
        try:
            fit: SbgFit | None = fit_sbg(survivor_counts(rows))
            error = ""
        except FitError as exc:
            fit, error = None, str(exc)
        clv_new = clv_existing = None
        projection: list[float] = []
        if fit is not None:
            projection = [fit.survival(t) for t in range(horizon + 1)]
            if current:
                avg_arr = mrr * 12 / len(current)
                clv_new = to_cents(avg_arr * margin * Decimal(str(fit.del_(discount_rate=d))))
                residual = sum(
                    (
                        t.at(today).mrr
                        * 12
                        * margin
                        * Decimal(str(fit.derl(discount_rate=d, renewals=_renewals_survived(t, today))))
                        for t in current
                    ),
                    Decimal("0"),
                )
                clv_existing = to_cents(residual / len(current))
        results.append(
            ClvResult(
                group=group,
                fit=fit,
                error=error,
                customers=len(current),
                mrr=mrr,
                margin=margin,
                discount_rate=discount_rate,
                projection=projection,
                clv_new=clv_new,
                clv_existing_avg=clv_existing,
            )
        )
    return results


def accounts_clv(*, account_ids: list[int], today: dt.date) -> dict[int, Decimal]:
    """Residual CLV of each paying account from the sBG fit of its tier (one load, one fit per tier)."""
    base = revenue_base(rates_on=today)
    margin, rate = clv_settings()
    fits: dict[str, SbgFit | None] = {}
    values: dict[int, Decimal] = {}
    for account_id in account_ids:
        timeline = base.timelines.get(account_id)
        info = base.accounts.get(account_id)
        if timeline is None or info is None or timeline.at(today).mrr <= 0:
            continue
        if info.tier_label not in fits:
            rows = cohort_table(today=today, base=base, by="tier", group=info.tier_label)
            try:
                fits[info.tier_label] = fit_sbg(survivor_counts(rows))
            except FitError:
                fits[info.tier_label] = None
        fit = fits[info.tier_label]
        if fit is None:
            continue
        lifetime = fit.derl(discount_rate=float(rate), renewals=_renewals_survived(timeline, today))
        values[account_id] = to_cents(timeline.at(today).mrr * 12 * margin * Decimal(str(lifetime)))
    return values


def account_clv(*, account_id: int, today: dt.date) -> Decimal | None:
    """Residual CLV of one account (see accounts_clv)."""
    return accounts_clv(account_ids=[account_id], today=today).get(account_id)


# --- stored results (computed by the daily pipeline: tandem.revenue.services) ---------------------

COHORTS_KIND = "cohorts"
CLV_GROUPINGS = ("tier", "csm", "am", "currency")


def clv_kind(by: str) -> str:
    return f"clv:{by}"


def segment_key(base: RevenueBase, account_id: int, by: str) -> str:
    """What a stored segment is keyed by: the tier's code (labelled when read), else the group's name."""
    if by == "tier":
        info = base.accounts.get(account_id)
        return info.tier if info is not None else "—"
    return base.group_of(account_id, by)


def _segment_label(key: str, by: str) -> str:
    from tandem.accounts.models import Tier

    if key == "":
        return str(_("All accounts"))
    if by == "tier":
        return str(dict(Tier.choices).get(key, key))
    return key


@dataclass(frozen=True)
class Stored:
    """A stored analytics result and when it was computed; ``value`` is empty when ``error`` is set."""

    as_of: dt.date
    computed_at: dt.datetime
    error: str
    value: Any


def _stored_row(kind: str) -> Any:
    from tandem.revenue.models import RevenueAnalytics

    return RevenueAnalytics.objects.filter(kind=kind).first()


def stored_cohorts() -> Stored | None:
    """The cohort table of the last daily run, or None before the first one."""
    row = _stored_row(COHORTS_KIND)
    if row is None:
        return None
    rows = [
        CohortRow(
            label=r["label"],
            start=dt.date.fromisoformat(r["start"]),
            size=int(r["size"]),
            starting_mrr=Decimal(r["starting_mrr"]),
            logos=[int(v) for v in r["logos"]],
            mrr=[Decimal(v) for v in r["mrr"]],
        )
        for r in row.payload.get("rows", [])
    ]
    return Stored(as_of=row.as_of, computed_at=row.computed_at, error=row.error, value=rows)


def _fit_from(data: dict[str, Any] | None) -> SbgFit | None:
    return SbgFit(**data) if data else None


def _clv_from_segment(segment: dict[str, Any], *, by: str, margin: Decimal, discount_rate: Decimal) -> ClvResult:
    """CLV of a stored segment: the sums the formulas need were stored, only hyp2f1 runs here."""
    fit = _fit_from(segment["fit"])
    customers = int(segment["customers"])
    mrr = Decimal(segment["mrr"])
    d = float(discount_rate)
    clv_new = clv_existing = None
    if fit is not None and customers and d > 0:
        avg_arr = mrr * 12 / customers
        clv_new = to_cents(avg_arr * margin * Decimal(str(fit.del_(discount_rate=d))))
        residual = sum(
            (
                Decimal(amount) * 12 * margin * Decimal(str(fit.derl(discount_rate=d, renewals=int(n))))
                for n, amount in segment["mrr_by_renewals"].items()
            ),
            Decimal("0"),
        )
        clv_existing = to_cents(residual / customers)
    return ClvResult(
        group=_segment_label(segment["key"], by),
        fit=fit,
        error=segment["error"],
        customers=customers,
        mrr=mrr,
        margin=margin,
        discount_rate=discount_rate,
        projection=[float(v) for v in segment["projection"]],
        clv_new=clv_new,
        clv_existing_avg=clv_existing,
    )


def stored_clv(
    *, by: str = "tier", margin: Decimal | None = None, discount_rate: Decimal | None = None
) -> Stored | None:
    """Every segment's CLV from the last daily run's fits, for any margin and discount rate."""
    by = by if by in CLV_GROUPINGS else "tier"
    row = _stored_row(clv_kind(by))
    if row is None:
        return None
    default_margin, default_rate = clv_settings()
    margin = default_margin if margin is None else margin
    discount_rate = default_rate if discount_rate is None else discount_rate
    results = [
        _clv_from_segment(s, by=by, margin=margin, discount_rate=discount_rate) for s in row.payload.get("segments", [])
    ]
    return Stored(as_of=row.as_of, computed_at=row.computed_at, error=row.error, value=results)


def stored_accounts_clv(*, account_ids: list[int], today: dt.date) -> dict[int, Decimal]:
    """Residual CLV of each paying account from the stored sBG fit of its tier (accounts_clv without fitting).

    Falls back to :func:`accounts_clv` (fitting now) before the first daily run.
    """
    row = _stored_row(clv_kind("tier"))
    if row is None or row.error:
        return {} if row is not None else accounts_clv(account_ids=account_ids, today=today)
    fits = {s["key"]: _fit_from(s["fit"]) for s in row.payload.get("segments", [])}
    try:
        base = revenue_base(rates_on=today, account_ids=account_ids)
    except DomainError:
        return {}
    margin, rate = clv_settings()
    values: dict[int, Decimal] = {}
    for account_id in account_ids:
        timeline = base.timelines.get(account_id)
        info = base.accounts.get(account_id)
        if timeline is None or info is None or timeline.at(today).mrr <= 0:
            continue
        fit = fits.get(info.tier)
        if fit is None:
            continue
        lifetime = fit.derl(discount_rate=float(rate), renewals=_renewals_survived(timeline, today))
        values[account_id] = to_cents(timeline.at(today).mrr * 12 * margin * Decimal(str(lifetime)))
    return values
