# ruff: noqa: RUF003 - mathematical notation (α, β, ×, −) is intended
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tandem.accounts.models import Account, Tier
from tandem.core.errors import DomainError
from tandem.opportunities.models import (
    ChurnReason,
    ForecastCategory,
    Opportunity,
    OpportunityKind,
    RenewalOutcome,
    Stage,
)
from tandem.opportunities.selectors import forecast, pipeline_board, renewal_center
from tandem.opportunities.services import (
    opportunity_create,
    opportunity_move_stage,
    quota_set,
    renewal_close,
    renewals_open_due,
)
from tandem.subscriptions.models import BillingPeriod, Subscription
from tandem.subscriptions.services import SubscriptionItemInput, subscription_create
from tandem.users.models import User
from tandem.users.services import user_create
from tests.factories import AccountFactory, ExchangeRateFactory, ProductFactory, as_fixture

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
D = Decimal
TODAY = dt.date(2025, 10, 1)

# Reads as an admin: these tests are about renewals, not access rules (tests/access).
ADMIN = User(is_superuser=True, is_active=True)


@pytest.fixture
def am():
    with as_fixture():  # shared with the view tests, which have no declared path of their own
        return user_create(
            acting_user=None,
            username="isa",
            password=None,
            first_name="Isa",
            last_name="Bel",
            roles=["account_manager"],
        )


@pytest.fixture
def contract(am):
    """An EUR mid-market account: annual term 2025-01-01..2025-12-31, 10 seats at 1,200 EUR (ARR 12,000)."""
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=D("1.10"))
    account = AccountFactory(tier=Tier.MID_MARKET, currency="EUR", am_owner=am)
    seat = ProductFactory(code="seat")
    with as_fixture():
        term = subscription_create(
            acting_user=None,
            account=account,
            start_date=dt.date(2025, 1, 1),
            end_date=dt.date(2025, 12, 31),
            renewal_date=dt.date(2026, 1, 1),
            currency="EUR",
            billing_period=BillingPeriod.ANNUAL,
            items=[SubscriptionItemInput(product=seat, quantity=D(10), unit_price=D(1200))],
        )
    return account, term, seat


def test_renewal_opens_within_the_tier_lead_time_only_once(contract, am):
    _account, term, _seat = contract
    # 152 days before the end; mid-market: 120
    assert renewals_open_due(acting_user=None, today=dt.date(2025, 8, 1)) == []
    created = renewals_open_due(acting_user=None, today=TODAY)

    assert len(created) == 1
    renewal = created[0]
    assert (renewal.kind, renewal.subscription_id, renewal.owner_id) == (OpportunityKind.RENEWAL, term.pk, am.pk)
    assert renewal.current_arr == D("13200.00") == renewal.amount  # 12,000 EUR × 1.10
    assert renewal.close_date == dt.date(2025, 12, 31)
    assert renewals_open_due(acting_user=None, today=TODAY) == []  # idempotent


def test_closing_as_renewed_creates_the_next_term_and_rolls_the_renewal_date(contract, settings):
    account, _term, _seat = contract
    renewal = renewals_open_due(acting_user=None, today=TODAY)[0]

    closed = renewal_close(acting_user=None, opportunity=renewal, closed_on=TODAY)

    new_term = closed.next_subscription
    assert (new_term.start_date, new_term.end_date, new_term.renewal_date) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 1),
    )
    assert new_term.arr == D("12000.00") and new_term.currency == "EUR"
    assert (closed.outcome, closed.stage, closed.amount) == (RenewalOutcome.RENEWED, Stage.CLOSED_WON, D("13200.00"))
    account.refresh_from_db()
    assert account.renewal_date == dt.date(2027, 1, 1)


def test_renewing_with_more_seats_is_an_expansion(contract):
    _account, _term, seat = contract
    renewal = renewals_open_due(acting_user=None, today=TODAY)[0]

    closed = renewal_close(
        acting_user=None,
        opportunity=renewal,
        closed_on=TODAY,
        items=[SubscriptionItemInput(product=seat, quantity=D(8), unit_price=D(1200))],
    )
    assert closed.outcome == RenewalOutcome.CONTRACTED
    assert closed.amount == D("10560.00")  # 9,600 EUR × 1.10


def test_churn_needs_a_reason_and_writes_nothing_without_one(contract):
    _account, term, _seat = contract
    renewal = renewals_open_due(acting_user=None, today=TODAY)[0]

    with pytest.raises(DomainError) as excinfo:
        renewal_close(acting_user=None, opportunity=renewal, churned=True)
    assert excinfo.value.errors[0].field == "churn_reason"
    renewal.refresh_from_db()
    assert renewal.is_open and Subscription.objects.count() == 1

    closed = renewal_close(
        acting_user=None, opportunity=renewal, churned=True, churn_reason=ChurnReason.objects.get(code="budget")
    )
    term.refresh_from_db()
    assert (closed.outcome, closed.amount, term.renewal_date, term.auto_renew) == (
        RenewalOutcome.CHURNED,
        D("0"),
        None,
        False,
    )


def test_expansion_lifecycle_and_forecast(contract, am):
    account, _term, _seat = contract
    deal = opportunity_create(
        acting_user=None,
        account=account,
        kind=OpportunityKind.UPSELL,
        amount=D("5000"),
        close_date=dt.date(2025, 11, 15),
        source="cta",
        source_ref="cta-7",
    )
    assert (deal.owner_id, deal.stage, deal.probability, deal.forecast_category) == (
        am.pk,
        Stage.QUALIFY,
        D("20"),
        ForecastCategory.PIPELINE,
    )
    renewal = renewals_open_due(acting_user=None, today=TODAY)[0]  # commit? auto_renew False -> best case, 13,200
    quota_set(
        acting_user=None,
        owner=am,
        period_start=dt.date(2025, 10, 1),
        period_end=dt.date(2025, 12, 31),
        amount=D("20000"),
    )

    rows, team = forecast(period_start=dt.date(2025, 10, 1), period_end=dt.date(2025, 12, 31))
    assert (rows[0].quota, rows[0].closed_won, rows[0].best_case, rows[0].pipeline) == (
        D("20000"),
        D("0"),
        D("13200.00"),
        D("5000"),
    )

    opportunity_move_stage(acting_user=None, opportunity=deal, stage=Stage.CLOSED_WON, closed_on=dt.date(2025, 11, 2))
    renewal_close(acting_user=None, opportunity=renewal, closed_on=dt.date(2025, 12, 1))
    rows, team = forecast(period_start=dt.date(2025, 10, 1), period_end=dt.date(2025, 12, 31))
    assert (rows[0].won_expansion, rows[0].won_renewal) == (D("5000"), D("13200.00"))
    assert rows[0].attainment == D("18200.00") / D("20000")
    assert team.forecast_pipeline == D("18200.00")

    board = {
        c.stage: c
        for c in pipeline_board(
            user=ADMIN,
        )
    }
    assert [o.pk for o in board[Stage.CLOSED_WON].opportunities] == [deal.pk]


def test_renewals_cannot_be_created_by_hand(contract):
    account, _term, _seat = contract
    with pytest.raises(DomainError):
        opportunity_create(
            acting_user=None, account=account, kind=OpportunityKind.RENEWAL, amount=D(1), close_date=TODAY
        )
    assert not Opportunity.objects.exists()


def test_renewal_center_lists_open_and_recently_closed(contract):
    renewals_open_due(acting_user=None, today=TODAY)
    center = renewal_center(user=ADMIN, today=TODAY)
    assert [r.opportunity.account_id for r in center.open] == [Account.objects.get().pk]
    assert center.open[0].health is None and center.open[0].risk is None  # never scored yet
    assert center.totals["current_arr"] == D("13200.00")


def test_renewal_center_shows_each_account_s_current_health_and_risk(contract):
    from tandem.health.models import AccountHealth, Band
    from tandem.risk.models import AccountRisk

    account = Account.objects.get()
    AccountHealth.objects.create(account=account, score=41.5, band=Band.POOR, as_of=TODAY)
    AccountRisk.objects.create(
        account=account, probability=0.27, reasons=["Usage down 40%"], as_of=TODAY, model_version="t"
    )
    renewals_open_due(acting_user=None, today=TODAY)

    row = renewal_center(user=ADMIN, today=TODAY).open[0]

    assert (row.health.score, row.health.band) == (41.5, Band.POOR)
    assert (row.risk.probability, row.risk.reasons) == (0.27, ["Usage down 40%"])
