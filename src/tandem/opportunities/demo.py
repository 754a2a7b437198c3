"""Demo post-build steps: closed renewals from the contract history, an expansion pipeline and
quarterly quotas for the demo account managers (before the daily pipeline). Expansion deals were won
and lost over the past year as well as open now. The renewals now due are opened by the daily
pipeline, whose renewal step derives each one's forecast from the account's churn risk and health
(tandem.opportunities.forecast).

Closed renewals are derived from the subscription history, so they agree with it: a term that
ended in the last year and was followed by a term starting the next day was renewed (with
expansion or contraction by comparing the two terms' ARR), a term that ended with no successor
churned. The renewals now due are opened by the daily pipeline's renewal step, as on every later
day. Registered in ``tandem.demo.pipeline.POST_BUILD_STEPS``; idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from django.db import transaction

from tandem.audit.services import audit_rows_written
from tandem.core.money import to_cents
from tandem.opportunities.models import (
    EXPANSION_KINDS,
    OPEN_STAGES,
    STAGE_FORECAST,
    STAGE_PROBABILITY,
    ChurnReason,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    OpportunitySource,
    Quota,
    RenewalOutcome,
    Stage,
)
from tandem.opportunities.selectors import quarter_bounds
from tandem.opportunities.services import churn_reasons_ensure_defaults, opportunity_history_record
from tandem.subscriptions.models import ExchangeRate, Subscription
from tandem.subscriptions.selectors import reporting_currency
from tandem.timeline.models import EventKind, TimelineEvent

OPPORTUNITY_EVENTS = (
    EventKind.OPPORTUNITY_OPENED,
    EventKind.OPPORTUNITY_CHANGED,
    EventKind.OPPORTUNITY_WON,
    EventKind.OPPORTUNITY_LOST,
)

if TYPE_CHECKING:
    from tandem.demo.pipeline import DemoContext

DEMO_PREFIX = "demo-"


class _Rates:
    """Exchange rates on any day from one query (latest valid_from on or before the day)."""

    def __init__(self) -> None:
        self.by_currency: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for currency, valid_from, rate in ExchangeRate.objects.order_by("currency", "valid_from").values_list(
            "currency", "valid_from", "rate"
        ):
            self.by_currency[currency].append((valid_from, rate))

    def on(self, currency: str, day: dt.date) -> Decimal:
        if currency == reporting_currency():
            return Decimal("1")
        rate = Decimal("1")
        for valid_from, value in self.by_currency.get(currency, []):
            if valid_from > day:
                break
            rate = value
        return rate


def build_demo_opportunities(ctx: DemoContext) -> None:
    """The demo step: see the module docstring."""
    rng = np.random.default_rng([ctx.seed, 6])
    today = ctx.today
    with transaction.atomic():
        churn_reasons_ensure_defaults(acting_user=None)
        Opportunity.objects.filter(account__external_id__startswith=DEMO_PREFIX).delete()
        TimelineEvent.objects.filter(
            account__external_id__startswith=DEMO_PREFIX, kind__in=OPPORTUNITY_EVENTS
        ).delete()  # they pointed at the opportunities just deleted
        rates = _Rates()
        reasons = list(ChurnReason.objects.filter(is_active=True).order_by("code"))
        terms = list(
            Subscription.objects.filter(account__external_id__startswith=DEMO_PREFIX)
            .select_related("account")
            .order_by("account_id", "start_date")
        )
        by_account: dict[int, list[Subscription]] = defaultdict(list)
        for term in terms:
            by_account[term.account_id].append(term)

        closed: list[Opportunity] = []
        for account_terms in by_account.values():
            for index, term in enumerate(account_terms):
                if term.end_date is None or not (today - dt.timedelta(days=365) <= term.end_date < today):
                    continue
                successor = next(
                    (t for t in account_terms[index + 1 :] if t.start_date == term.end_date + dt.timedelta(days=1)),
                    None,
                )
                rate = rates.on(term.currency, term.end_date)
                current = to_cents(term.arr * rate)
                closed_on = term.end_date - dt.timedelta(days=int(rng.integers(0, 30)))
                opportunity = Opportunity(
                    account=term.account,
                    kind=OpportunityKind.RENEWAL,
                    name=f"Renewal {successor.start_date if successor else term.end_date + dt.timedelta(days=1)}",
                    owner_id=term.account.am_owner_id,
                    current_arr=current,
                    close_date=term.end_date,
                    closed_on=closed_on,
                    source=OpportunitySource.AUTOMATIC,
                    subscription=term,
                )
                if successor is not None:
                    opportunity.amount = to_cents(successor.arr * rates.on(successor.currency, term.end_date))
                    opportunity.stage = Stage.CLOSED_WON
                    opportunity.probability = Decimal("100")
                    opportunity.forecast_category = ForecastCategory.COMMIT
                    opportunity.next_subscription = successor
                    opportunity.outcome = (
                        RenewalOutcome.EXPANDED
                        if opportunity.amount > current
                        else RenewalOutcome.CONTRACTED
                        if opportunity.amount < current
                        else RenewalOutcome.RENEWED
                    )
                else:
                    opportunity.amount = Decimal("0")
                    opportunity.stage = Stage.CLOSED_LOST
                    opportunity.probability = Decimal("0")
                    opportunity.forecast_category = ForecastCategory.OMITTED
                    opportunity.outcome = RenewalOutcome.CHURNED
                    opportunity.churn_reason = reasons[int(rng.integers(0, len(reasons)))]
                closed.append(opportunity)
        Opportunity.objects.bulk_create(closed, batch_size=2000)
        audit_rows_written(model=Opportunity, created=closed)
        opportunity_history_record(opportunities=closed)

        _expansion_pipeline(rng, today)
        _quotas(today, rates, terms)


def _expansion_pipeline(rng: np.random.Generator, today: dt.date) -> None:
    from tandem.accounts.models import Account

    accounts = list(
        Account.objects.filter(external_id__startswith=DEMO_PREFIX, arr__gt=0)
        .order_by("id")
        .only("id", "name", "arr", "am_owner_id")
    )
    kinds = list(EXPANSION_KINDS)
    labels = {
        OpportunityKind.UPSELL: "More seats",
        OpportunityKind.CROSS_SELL: "Advanced Analytics",
        OpportunityKind.ADDON: "Premium Support",
    }
    deals: list[Opportunity] = []
    for account in accounts:
        draw = rng.random()
        if draw > 0.30:
            continue
        kind = kinds[int(rng.integers(0, len(kinds)))]
        amount = max(Decimal(int(account.arr * Decimal(str(rng.uniform(0.08, 0.4))) / 100) * 100), Decimal("600"))
        closed_on: dt.date | None
        if draw < 0.09:  # won over the past year
            stage = Stage.CLOSED_WON
            close = today - dt.timedelta(days=int(rng.integers(1, 365)))
            closed_on = close
            forecast = ForecastCategory.COMMIT
        elif draw < 0.14:  # lost over the past year
            stage = Stage.CLOSED_LOST
            close = today - dt.timedelta(days=int(rng.integers(1, 365)))
            closed_on = close
            forecast = ForecastCategory.OMITTED
        else:
            stage = OPEN_STAGES[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]
            close = today + dt.timedelta(days=int(rng.integers(5, 160)))
            closed_on = None
            forecast = STAGE_FORECAST[stage]
        deals.append(
            Opportunity(
                account=account,
                kind=kind,
                name=f"{labels[kind]} · {account.name}",
                owner_id=account.am_owner_id,
                stage=stage,
                probability=STAGE_PROBABILITY[stage],
                forecast_category=forecast,
                amount=amount,
                close_date=close,
                closed_on=closed_on,
                source=OpportunitySource.MANUAL,
            )
        )
    Opportunity.objects.bulk_create(deals, batch_size=2000)
    audit_rows_written(model=Opportunity, created=deals)
    opportunity_history_record(opportunities=deals)


def _quotas(today: dt.date, rates: _Rates, terms: list[Subscription]) -> None:
    """Quarterly quotas, last four quarters to next: 90% of the ARR up for renewal + 6% of the book."""
    from tandem.accounts.models import Account

    book: dict[int, Decimal] = defaultdict(Decimal)
    for am_id, arr in Account.objects.filter(external_id__startswith=DEMO_PREFIX, am_owner__isnull=False).values_list(
        "am_owner_id", "arr"
    ):
        book[am_id] += arr
    quarters = []
    start, _end = quarter_bounds(today)
    for back in range(-4, 2):
        month = start.month - 1 + 3 * back
        year, month = divmod(month, 12)
        quarters.append(quarter_bounds(dt.date(start.year + year, month + 1, 1)))
    due: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    for term in terms:
        if term.end_date is None or term.account.am_owner_id is None:
            continue
        q_start, _q_end = quarter_bounds(term.end_date)
        due[(term.account.am_owner_id, q_start)] += term.arr * rates.on(term.currency, term.end_date)
    quotas = [
        Quota(
            owner_id=am_id,
            period_start=q_start,
            period_end=q_end,
            amount=Decimal(int((due[(am_id, q_start)] * Decimal("0.9") + total * Decimal("0.06")) / 1000) * 1000),
        )
        for am_id, total in book.items()
        for q_start, q_end in quarters
    ]
    Quota.objects.filter(owner_id__in=list(book)).delete()
    Quota.objects.bulk_create(quotas)
    audit_rows_written(model=Quota, created=quotas, describe=lambda q: f"{q.owner_id} {q.period_start}–{q.period_end}")
