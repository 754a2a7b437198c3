"""Reads: the renewal center, the expansion pipeline board, quotas, attainment and forecasts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, overload

from django.db.models import Count, Q, QuerySet, Sum

from tandem.access.masking import HIDDEN, mask_rows, sees_contract_values
from tandem.access.scoping import restrict
from tandem.accounts.models import live_account_q
from tandem.core.money import to_cents
from tandem.health.selectors import HealthSnapshot, account_health_current
from tandem.opportunities.models import (
    EXPANSION_KINDS,
    OPEN_STAGES,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    Quota,
    Stage,
)
from tandem.risk.selectors import RiskSnapshot, account_risk_current

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.users.models import User

ZERO = Decimal("0")


def account_health_and_risk(*, account_ids: list[int]) -> tuple[dict[int, HealthSnapshot], dict[int, RiskSnapshot]]:
    """Current health and churn risk per account, for showing beside renewals and in reports."""
    return (
        account_health_current(account_ids=account_ids),
        account_risk_current(account_ids=account_ids),
    )


def opportunities_base() -> QuerySet[Opportunity]:
    return Opportunity.objects.select_related("account", "owner", "churn_reason")


def open_work_q() -> Q:
    """Open opportunities of live accounts: the work the renewal center, the pipeline board, the
    forecast's open amounts and the home page show. An archived account's open deals drop out (and
    come back when it is restored); closed ones stay in the history and the closed-won figures."""
    return live_account_q() & Q(stage__in=OPEN_STAGES)


def opportunities_open() -> QuerySet[Opportunity]:
    """Open opportunities of live accounts (see :func:`open_work_q`)."""
    return Opportunity.objects.filter(open_work_q())


def renewals_open() -> QuerySet[Opportunity]:
    """Open renewals of live accounts: the home page counts these, the renewal center lists them."""
    return opportunities_open().filter(kind=OpportunityKind.RENEWAL)


@dataclass
class RenewalRow:
    opportunity: Opportunity
    health: HealthSnapshot | None
    risk: RiskSnapshot | None


R = TypeVar("R")


class LazyRows(Sequence[R]):
    """A query's rows, read only as far as a caller reads them.

    The renewal center pages 50 of thousands of renewals (20,000 at 100,000 accounts): its length
    is a COUNT, a page (a slice, as the paginator takes it) loads that page's rows and ``prepare``
    adds what they show (health, risk, masking) to those rows alone, and only iterating reads all
    (the CSV export). Loading every row per request took 1.2-1.8 s at 10,000 accounts.
    """

    def __init__(
        self,
        queryset: QuerySet[Opportunity],
        prepare: Callable[[list[Opportunity]], list[R]],
        *,
        count: int | None = None,
    ) -> None:
        self._queryset = queryset
        self._prepare = prepare
        self._count = count  # when the caller counted already

    def __len__(self) -> int:
        if self._count is None:
            self._count = self._queryset.count()
        return self._count

    @overload
    def __getitem__(self, index: int) -> R: ...

    @overload
    def __getitem__(self, index: slice) -> list[R]: ...

    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return self._prepare(list(self._queryset[index]))
        if index < 0:
            index += len(self)
        return self._prepare([self._queryset[index]])[0]

    def __iter__(self) -> Iterator[R]:
        return iter(self._prepare(list(self._queryset)))


@dataclass
class RenewalCenter:
    open: LazyRows[RenewalRow]
    closed: LazyRows[Opportunity]
    totals: dict[str, Decimal]
    outcome_counts: dict[str, int]


def renewal_center(
    *,
    today: dt.date,
    user: User | AnonymousUser,
    horizon_days: int = 180,
    owner_id: int | None = None,
    closed_days: int = 90,
    book_of: User | None = None,
) -> RenewalCenter:
    """Open renewals closing within ``horizon_days`` (and overdue ones), plus recently closed ones.

    ``book_of``: only accounts that user owns as CSM or AM (what the home page counts for them).
    Totals and outcome counts are aggregates; the rows are read page by page (:class:`LazyRows`)."""

    def scoped(qs: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        qs = restrict(qs, user=user)
        if owner_id:
            qs = qs.filter(owner_id=owner_id)
        if book_of is not None:
            qs = qs.filter(Q(account__csm_owner=book_of) | Q(account__am_owner=book_of))
        return qs

    # Open: the live accounts' renewals (as the home page counts them); closed: history, archived too.
    open_qs = scoped(renewals_open()).filter(close_date__lte=today + dt.timedelta(days=horizon_days))
    closed_qs = (
        scoped(Opportunity.objects.filter(kind=OpportunityKind.RENEWAL))
        .filter(closed_on__gte=today - dt.timedelta(days=closed_days))
        .exclude(stage__in=OPEN_STAGES)
    )
    # One grouped query gives the totals, each forecast category's amount and the count.
    totals: dict[str, Decimal] = defaultdict(Decimal)
    open_count = 0
    for category, n, current, amount in (
        open_qs.values_list("forecast_category")
        .annotate(n=Count("id"), current=Sum("current_arr"), amount=Sum("amount"))
        .order_by()
    ):
        open_count += n
        totals["current_arr"] += current
        totals["expected"] += amount
        totals[category] += amount
    outcome_counts = dict(closed_qs.values_list("outcome").annotate(n=Count("id")).order_by())
    masked = not sees_contract_values(user)

    def renewal_rows(page: list[Opportunity]) -> list[RenewalRow]:
        health, risk = account_health_and_risk(account_ids=[o.account_id for o in page])
        if masked:
            mask_rows(page, user=user)
        return [RenewalRow(o, health.get(o.account_id), risk.get(o.account_id)) for o in page]

    def closed_rows(page: list[Opportunity]) -> list[Opportunity]:
        return mask_rows(page, user=user)

    if masked:
        totals = {key: HIDDEN for key in totals}  # type: ignore[misc]
    related = ("account", "owner", "churn_reason")
    return RenewalCenter(
        open=LazyRows(open_qs.select_related(*related).order_by("close_date", "id"), renewal_rows, count=open_count),
        closed=LazyRows(
            closed_qs.select_related(*related).order_by("-closed_on", "-id"),
            closed_rows,
            count=sum(outcome_counts.values()),
        ),
        totals=dict(totals),
        outcome_counts=outcome_counts,
    )


@dataclass
class BoardColumn:
    stage: str
    label: str
    opportunities: list[Opportunity]
    amount: Decimal
    weighted: Decimal
    total: int = 0  # every opportunity in the column, when ``opportunities`` holds one page of them


def _board_queryset(
    *, user: User | AnonymousUser, owner_id: int | None, closed_since: dt.date | None
) -> QuerySet[Opportunity]:
    # An archived account's open deals are not worked: they leave the open columns (closed ones stay).
    # Closed deals only since ``closed_since``, in the query: read and dropped here, the years of
    # closed history made up half the rows the board loaded.
    closed = ~Q(stage__in=OPEN_STAGES)
    if closed_since:
        closed &= Q(closed_on__gte=closed_since)
    qs = restrict(
        opportunities_base()
        .filter(kind__in=EXPANSION_KINDS)
        .filter(open_work_q() | closed)
        .order_by("close_date", "id"),
        user=user,
    )
    return qs.filter(owner_id=owner_id) if owner_id else qs


def pipeline_board(
    *, user: User | AnonymousUser, owner_id: int | None = None, closed_since: dt.date | None = None
) -> list[BoardColumn]:
    """Expansion opportunities in one column per stage (closed columns only since ``closed_since``):
    every card (the CSV export); the page reads one page of them with :func:`pipeline_board_page`."""
    qs = _board_queryset(user=user, owner_id=owner_id, closed_since=closed_since)
    by_stage: dict[str, list[Opportunity]] = defaultdict(list)
    for o in qs:
        by_stage[o.stage].append(o)
    columns = [
        BoardColumn(
            stage=stage.value,
            label=str(stage.label),
            opportunities=by_stage[stage.value],
            amount=sum((o.amount for o in by_stage[stage.value]), ZERO),
            weighted=sum((o.weighted_amount for o in by_stage[stage.value]), ZERO),
            total=len(by_stage[stage.value]),
        )
        for stage in Stage
    ]
    return _masked(columns, user=user)


def _masked(columns: list[BoardColumn], *, user: User | AnonymousUser) -> list[BoardColumn]:
    if not sees_contract_values(user):
        for column in columns:
            mask_rows(column.opportunities, user=user)
            column.amount = column.weighted = HIDDEN  # type: ignore[assignment]
    return columns


def pipeline_board_page(
    *,
    user: User | AnonymousUser,
    page: str | int | None,
    per_page: int,
    owner_id: int | None = None,
    closed_since: dt.date | None = None,
) -> tuple[list[BoardColumn], Any]:
    """The board's columns with one page of cards each (the same page in every column) and their
    totals as aggregates: one grouped query and a page per stage, whatever the number of deals.
    Returns (columns, the Django page of the longest column)."""
    from django.core.paginator import Paginator
    from django.db.models import DecimalField, ExpressionWrapper, F

    qs = _board_queryset(user=user, owner_id=owner_id, closed_since=closed_since)
    # The weighted amount is each deal's amount * probability / 100 rounded to the cent, as on a
    # card; summed in SQL before rounding it can differ from the cards' sum by a few cents at most.
    weighted = ExpressionWrapper(
        F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2)
    )
    stats = {
        row["stage"]: row
        for row in qs.order_by()
        .values("stage")
        .annotate(n=Count("pk"), sum_amount=Sum("amount"), sum_weighted=Sum(weighted))
    }
    longest = max((row["n"] for row in stats.values()), default=0)
    board_page = Paginator(range(longest), per_page).get_page(page)
    first = (board_page.number - 1) * per_page
    columns = []
    for stage in Stage:
        row = stats.get(stage.value)
        cards = list(qs.filter(stage=stage.value)[first : first + per_page]) if row and row["n"] > first else []
        columns.append(
            BoardColumn(
                stage=stage.value,
                label=str(stage.label),
                opportunities=cards,
                amount=Decimal(row["sum_amount"] or 0).quantize(Decimal("0.01")) if row else ZERO,
                weighted=(Decimal(row["sum_weighted"] or 0) / 100).quantize(Decimal("0.01")) if row else ZERO,
                total=row["n"] if row else 0,
            )
        )
    return _masked(columns, user=user), board_page


@dataclass
class ForecastRow:
    """One AM (or the team) in one period: quota, what closed and what is forecast."""

    owner_id: int | None
    owner: str
    quota: Decimal = ZERO
    won_renewal: Decimal = ZERO
    won_expansion: Decimal = ZERO
    commit: Decimal = ZERO  # open commit
    best_case: Decimal = ZERO  # open best case
    pipeline: Decimal = ZERO  # open pipeline
    lost: Decimal = ZERO
    open_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def closed_won(self) -> Decimal:
        return self.won_renewal + self.won_expansion

    @property
    def attainment(self) -> Decimal | None:
        return self.closed_won / self.quota if self.quota else None

    @property
    def forecast_commit(self) -> Decimal:
        return self.closed_won + self.commit

    @property
    def forecast_best_case(self) -> Decimal:
        return self.forecast_commit + self.best_case

    @property
    def forecast_pipeline(self) -> Decimal:
        return self.forecast_best_case + self.pipeline

    def add(self, other: ForecastRow) -> None:
        for name in ("quota", "won_renewal", "won_expansion", "commit", "best_case", "pipeline", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.open_count += other.open_count


def _user_name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user else "—"


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    year, month = divmod(start.month + 2, 12)
    end = dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)
    return start, end


def forecast(*, period_start: dt.date, period_end: dt.date) -> tuple[list[ForecastRow], ForecastRow]:
    """Per AM and for the team: quota, closed-won renewals and expansion, and the open forecast.

    Attainment = ARR closed won in the period (renewed ARR of won renewals + added ARR of won
    expansion deals, by ``closed_on``) ÷ quota. Forecasts are cumulative: commit = closed won +
    open commit; best case = commit + open best case; pipeline = best case + open pipeline (open
    deals by ``close_date`` in the period).
    """
    rows: dict[int | None, ForecastRow] = {}

    def row_for(owner: Any) -> ForecastRow:
        key = owner.pk if owner else None
        if key not in rows:
            rows[key] = ForecastRow(owner_id=key, owner=_user_name(owner))
        return rows[key]

    for quota in Quota.objects.filter(period_start__lte=period_end, period_end__gte=period_start).select_related(
        "owner"
    ):
        row_for(quota.owner).quota += quota.amount
    closed = Opportunity.objects.filter(closed_on__range=(period_start, period_end)).exclude(stage__in=OPEN_STAGES)
    open_ = opportunities_open().filter(close_date__range=(period_start, period_end))  # live accounts' open deals
    owners = {o.pk: o for o in _owners(closed, open_)}
    for owner_id, kind, stage, amount in (
        closed.values("owner_id", "kind", "stage")
        .annotate(total=Sum("amount"))
        .values_list("owner_id", "kind", "stage", "total")
    ):
        row = row_for(owners.get(owner_id))
        amount = to_cents(amount)  # SQLite's SUM drops the scale of decimals
        if stage == Stage.CLOSED_WON:
            if kind == OpportunityKind.RENEWAL:
                row.won_renewal += amount
            else:
                row.won_expansion += amount
        else:
            row.lost += amount
    for owner_id, category, amount, count in (
        open_.values("owner_id", "forecast_category")
        .annotate(total=Sum("amount"), n=Sum(1))
        .values_list("owner_id", "forecast_category", "total", "n")
    ):
        row = row_for(owners.get(owner_id))
        amount = to_cents(amount)
        row.open_count += count
        if category == ForecastCategory.COMMIT:
            row.commit += amount
        elif category == ForecastCategory.BEST_CASE:
            row.best_case += amount
        elif category == ForecastCategory.PIPELINE:
            row.pipeline += amount
    ordered = sorted(rows.values(), key=lambda r: (r.owner_id is None, r.owner))
    team = ForecastRow(owner_id=None, owner="")
    for row in ordered:
        team.add(row)
    return ordered, team


def _owners(*querysets: QuerySet[Opportunity]) -> list[Any]:
    from tandem.users.models import User

    ids: set[int] = set()
    for qs in querysets:
        ids.update(i for i in qs.values_list("owner_id", flat=True).distinct() if i)
    return list(User.objects.filter(pk__in=ids))


def opportunity_list(
    *,
    user: User | AnonymousUser,
    account_id: int | None = None,
    kind: str | None = None,
    stage: str | None = None,
    owner_id: int | None = None,
    open_only: bool = False,
) -> QuerySet[Opportunity]:
    """Opportunities this person may see, soonest close first: the REST API's list and the account page's.

    Contract values are not masked here (a queryset cannot be); callers pass the rows through
    ``mask_rows`` for the reader.
    """
    qs = opportunities_base()
    if open_only:
        qs = qs.filter(stage__in=OPEN_STAGES)
    for name, value in (("account_id", account_id), ("kind", kind), ("stage", stage), ("owner_id", owner_id)):
        if value is not None:
            qs = qs.filter(**{name: value})
    return restrict(qs, user=user).order_by("close_date", "id")


def account_opportunities(*, user: User | AnonymousUser, account_id: int, open_only: bool = False) -> list[Opportunity]:
    return list(opportunity_list(user=user, account_id=account_id, open_only=open_only))
