# ruff: noqa: RUF002, RUF003 - mathematical notation (α, β, ×, −) is intended
"""Revenue retention on hand-calculated fixtures, to the cent.

Reporting currency USD. Report range: Q2 2025 (2025-04-01 – 2025-06-30). Every amount is
converted at the rate valid on the last day of the range (2025-06-30): EUR 1.20 (the 1.10 of
January is NOT used), GBP 1.25. MRR of a term = Σ quantity × unit price ÷ months per billing
period, rounded once; an account's MRR = Σ term MRR × rate, rounded once.

Account  terms                                                              MRR (USD) on the way
A  USD   2025-01-01..05-14 annual 10 × 1200 (ended)  -> 1000.00            upgrade mid-period:
         2025-05-15..2026-05-14 annual 15 × 1200    -> 1500.00             +500.00 expansion 05-15
B  USD   2025-01-01..04-30 monthly 20 × 50  (ended)  -> 1000.00            downgrade then upgrade:
         2025-05-01..05-31 monthly 16 × 50  (ended)  ->  800.00            -200.00 contraction 05-01
         2025-06-01..      monthly 20 × 50           -> 1000.00            +200.00 expansion 06-01
C  EUR   2025-01-01..04-15 monthly 10 × 100 (ended)  -> 1000 EUR × 1.20 = 1200.00
         2025-04-16..05-15 paused                    ->    0.00 (still a customer)
                                                                           -1200.00 contraction 04-16
         2025-05-16..      monthly 10 × 100          -> 1200.00            +1200.00 expansion 05-16
D  GBP   2024-06-01..2025-05-31 annual 12 × 1200 (canceled) -> 1200 GBP × 1.25 = 1500.00
                                                                           -1500.00 churn 06-01
E  USD   2024-01-01..2024-12-31 annual 3 × 1200 (ended) -> 300.00, then nothing until
         2025-05-01..2026-04-30 annual 4 × 1200      ->  400.00            +400.00 reactivation 05-01
F  USD   2025-06-10..2026-06-09 quarterly 7 × 100 + add-on 1 × 50 -> 750 ÷ 3 = 250.00
                                                                           +250.00 new 06-10
G  EUR→GBP 2025-01-01..04-30 monthly 1 × 999.99 EUR -> 999.99 × 1.20 = 1199.988 -> 1199.99
         2025-05-01..      monthly 1 × 900 GBP       -> 900 × 1.25 = 1125.00
                                                                           -74.99 contraction 05-01
H  EUR   2025-01-01..      monthly 7 × 14.2857 = 99.9999 -> 100.00 EUR (rounded once) -> 120.00
I  USD   2025-05-01..05-31 trialing 5 × 100           -> ignored: neither revenue nor a customer

Opening MRR (2025-03-31) = A 1000 + B 1000 + C 1200 + D 1500 + G 1199.99 + H 120 = 6019.99 (6 customers)
new 250.00 · expansion 500 + 200 + 1200 = 1900.00 · reactivation 400.00
contraction 200 + 1200 + 74.99 = 1474.99 · churn 1500.00
Closing = 6019.99 + 250 + 1900 + 400 - 1474.99 - 1500 = 5595.00
        = A 1500 + B 1000 + C 1200 + E 400 + F 250 + G 1125 + H 120 ✓ (7 customers)
Opening cohort at the end: A 1500 + B 1000 + C 1200 + D 0 + G 1125 + H 120 = 4945.00
NRR = 4945.00 / 6019.99 ; GRR = Σ min(end, start) = 1000 + 1000 + 1200 + 0 + 1125 + 120 = 4445.00 / 6019.99
Gross revenue churn = (1474.99 + 1500.00) / 6019.99 = 2974.99 / 6019.99 ; logo churn = 1 / 6 (D)
Months: April closes at 6019.99 - 1200 (C paused) = 4819.99; May: +500 -200 +1200 +400 -74.99 -> 6645.00;
June: -1500 +200 +250 -> 5595.00.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from tandem.cli.app import app
from tandem.revenue.selectors import revenue_summary
from tandem.subscriptions.models import BillingPeriod, ProductKind, SubscriptionStatus
from tandem.subscriptions.services import SubscriptionItemInput, subscription_create
from tests.factories import AccountFactory, ExchangeRateFactory, ProductFactory, as_fixture

D = Decimal
Q2 = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))


def _term(account, start, end, items, *, currency="USD", period=BillingPeriod.MONTHLY, status="ended"):
    with as_fixture():
        return subscription_create(
            acting_user=None,
            account=account,
            start_date=start,
            end_date=end,
            items=[SubscriptionItemInput(product=p, quantity=D(q), unit_price=D(u)) for p, q, u in items],
            currency=currency,
            billing_period=period,
            status=status,
        )


@pytest.fixture
def book(db):
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=D("1.10"))
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 6, 1), rate=D("1.20"))
    ExchangeRateFactory(currency="GBP", valid_from=dt.date(2025, 1, 1), rate=D("1.25"))
    seat = ProductFactory(code="seat")
    addon = ProductFactory(code="addon", kind=ProductKind.ADDON)
    d = dt.date
    a = AccountFactory(name="A")
    _term(a, d(2025, 1, 1), d(2025, 5, 14), [(seat, 10, 1200)], period=BillingPeriod.ANNUAL)
    _term(a, d(2025, 5, 15), d(2026, 5, 14), [(seat, 15, 1200)], period=BillingPeriod.ANNUAL, status="active")
    b = AccountFactory(name="B")
    _term(b, d(2025, 1, 1), d(2025, 4, 30), [(seat, 20, 50)])
    _term(b, d(2025, 5, 1), d(2025, 5, 31), [(seat, 16, 50)])
    _term(b, d(2025, 6, 1), None, [(seat, 20, 50)], status="active")
    c = AccountFactory(name="C", currency="EUR")
    _term(c, d(2025, 1, 1), d(2025, 4, 15), [(seat, 10, 100)], currency="EUR")
    _term(c, d(2025, 4, 16), d(2025, 5, 15), [(seat, 10, 100)], currency="EUR", status=SubscriptionStatus.PAUSED)
    _term(c, d(2025, 5, 16), None, [(seat, 10, 100)], currency="EUR", status="active")
    dd = AccountFactory(name="D", currency="GBP")
    _term(
        dd,
        d(2024, 6, 1),
        d(2025, 5, 31),
        [(seat, 12, 1200)],
        currency="GBP",
        period=BillingPeriod.ANNUAL,
        status=SubscriptionStatus.CANCELED,
    )
    e = AccountFactory(name="E")
    _term(e, d(2024, 1, 1), d(2024, 12, 31), [(seat, 3, 1200)], period=BillingPeriod.ANNUAL)
    _term(e, d(2025, 5, 1), d(2026, 4, 30), [(seat, 4, 1200)], period=BillingPeriod.ANNUAL, status="active")
    f = AccountFactory(name="F")
    _term(
        f,
        d(2025, 6, 10),
        d(2026, 6, 9),
        [(seat, 7, 100), (addon, 1, 50)],
        period=BillingPeriod.QUARTERLY,
        status="active",
    )
    g = AccountFactory(name="G", currency="EUR")
    _term(g, d(2025, 1, 1), d(2025, 4, 30), [(seat, 1, "999.99")], currency="EUR")
    _term(g, d(2025, 5, 1), None, [(seat, 1, 900)], currency="GBP", status="active")
    h = AccountFactory(name="H", currency="EUR")
    _term(h, d(2025, 1, 1), None, [(seat, 7, "14.2857")], currency="EUR", status="active")
    i = AccountFactory(name="I")
    _term(i, d(2025, 5, 1), d(2025, 5, 31), [(seat, 5, 100)], status=SubscriptionStatus.TRIALING)
    return {x.name: x for x in (a, b, c, dd, e, f, g, h, i)}


def test_q2_movements_and_ratios_match_the_hand_calculation(book):
    report = revenue_summary(start=Q2[0], end=Q2[1])
    t = report.total

    assert report.rates_on == dt.date(2025, 6, 30)
    assert (t.opening_mrr, t.new, t.expansion, t.reactivation, t.contraction, t.churn, t.closing_mrr) == (
        D("6019.99"),
        D("250.00"),
        D("1900.00"),
        D("400.00"),
        D("1474.99"),
        D("1500.00"),
        D("5595.00"),
    )
    assert t.opening_arr == D("72239.88") and t.closing_arr == D("67140.00")
    assert (
        t.opening_customers,
        t.closing_customers,
        t.new_customers,
        t.reactivated_customers,
        t.churned_customers,
    ) == (6, 7, 1, 1, 1)
    assert t.cohort_closing_mrr == D("4945.00") and t.cohort_retained_mrr == D("4445.00")
    assert t.nrr == D("4945.00") / D("6019.99")
    assert t.grr == D("4445.00") / D("6019.99")
    assert t.gross_revenue_churn_rate == D("2974.99") / D("6019.99")
    assert t.logo_churn_rate == D(1) / D(6)
    assert f"{t.nrr:.4f}" == "0.8214" and f"{t.grr:.4f}" == "0.7384"


def test_monthly_breakdown_chains_opening_to_closing(book):
    report = revenue_summary(start=Q2[0], end=Q2[1], granularity="month")
    closings = [p.closing_mrr for p in report.periods]

    assert closings == [D("4819.99"), D("6645.00"), D("5595.00")]
    april, may, june = report.periods
    assert (april.contraction, april.expansion) == (D("1200.00"), D("0"))
    assert (may.expansion, may.contraction, may.reactivation) == (D("1700.00"), D("274.99"), D("400.00"))
    assert (june.churn, june.expansion, june.new) == (D("1500.00"), D("200.00"), D("250.00"))
    # The paused account is still a customer: April loses no logo.
    assert april.churned_customers == 0 and april.grr == (D("6019.99") - D("1200.00")) / D("6019.99")


def test_grouping_by_currency_splits_the_totals(book):
    report = revenue_summary(start=Q2[0], end=Q2[1], by="currency")
    groups = dict(report.groups)

    assert groups["USD"].opening_mrr == D("2000.00")  # A + B (E, F, I start later)
    assert groups["EUR"].opening_mrr == D("2519.99")  # C 1200 + G 1199.99 + H 120
    assert groups["GBP"].churn == D("1500.00")
    assert sum((g.closing_mrr for g in groups.values()), D(0)) == D("5595.00")


def test_a_currency_without_a_rate_is_an_error_not_a_zero(book):
    from tandem.core.errors import DomainError

    with pytest.raises(DomainError) as excinfo:
        revenue_summary(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    assert "EUR" in str(excinfo.value) and "GBP" in str(excinfo.value)


def test_cli_revenue_summary_json(book, transactional_db):
    result = CliRunner().invoke(
        app, ["revenue", "summary", "--from", "2025-04-01", "--to", "2025-06-30", "--by", "tier", "--json"]
    )

    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["total"]["opening_mrr"] == "6019.99"
    assert payload["total"]["closing_mrr"] == "5595.00"
    assert payload["total"]["nrr"] == "0.821430"
    assert payload["total"]["grr"] == "0.738373"
    assert payload["groups"][0]["group"] == "SMB"


def test_cli_rejects_a_reversed_range(db):
    result = CliRunner().invoke(app, ["revenue", "summary", "--from", "2025-06-30", "--to", "2025-04-01"])
    assert result.exit_code == 2
    assert "end" in result.output
