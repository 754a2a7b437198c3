"""Cohorts and CLV are computed by the daily pipeline and stored; the page only reads them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from tandem.revenue.models import RevenueAnalytics
from tandem.revenue.selectors import (
    accounts_clv,
    cohort_table,
    segment_clv,
    stored_accounts_clv,
    stored_clv,
    stored_cohorts,
)
from tandem.revenue.services import revenue_analytics_refresh
from tandem.subscriptions.models import BillingPeriod
from tests.factories import AccountFactory, ExchangeRateFactory, ProductFactory, UserFactory
from tests.revenue.test_fixtures import _term, book  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]

TODAY = dt.date(2026, 7, 1)


@pytest.fixture
def years(book):  # noqa: F811 - the fixture imported above
    """The hand-calculated book plus three years of annual cohorts, enough for the sBG fits."""
    seat = ProductFactory(code="seat-annual")
    for year in (2022, 2023, 2024):
        for n in range(6):
            account = AccountFactory(name=f"Y{year}-{n}", tier=("enterprise" if n % 2 else "mid_market"))
            lasts = 1 + (n % 3)
            for k in range(lasts):
                start = dt.date(year + k, 3, 1)
                _term(account, start, dt.date(year + k + 1, 2, 28), [(seat, 2, 600)], period=BillingPeriod.ANNUAL)
    return book


def test_stored_results_equal_the_live_computation(years):
    result = revenue_analytics_refresh(today=TODAY)
    assert result.error == "" and result.cohorts > 0 and result.segments > 0

    cohorts = stored_cohorts()
    assert cohorts is not None and cohorts.as_of == TODAY
    assert cohorts.value == cohort_table(today=TODAY)

    for margin, rate in ((None, None), (Decimal("0.6"), Decimal("0.15"))):
        live = {c.group: c for c in segment_clv(today=TODAY, by="tier", margin=margin, discount_rate=rate)}
        stored = stored_clv(by="tier", margin=margin, discount_rate=rate)
        assert stored is not None
        assert {c.group for c in stored.value} == set(live)
        for c in stored.value:
            want = live[c.group]
            assert (c.customers, c.mrr, c.error) == (want.customers, want.mrr, want.error)
            assert (c.fit is None) == (want.fit is None)
            if c.fit is not None:
                assert c.fit.alpha == pytest.approx(want.fit.alpha, rel=1e-6)
                assert c.clv_new == want.clv_new
                assert abs((c.clv_existing_avg or 0) - (want.clv_existing_avg or 0)) <= Decimal("0.01")

    account_ids = [a.pk for a in years.values()]
    assert stored_accounts_clv(account_ids=account_ids, today=TODAY) == accounts_clv(
        account_ids=account_ids, today=TODAY
    )


def test_refresh_is_idempotent(years):
    revenue_analytics_refresh(today=TODAY)
    revenue_analytics_refresh(today=TODAY)
    assert RevenueAnalytics.objects.count() == 5  # cohorts + one per grouping


def test_the_page_reads_the_stored_results_and_says_when_they_were_computed(years, monkeypatch):
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    before = client.get("/revenue/retention/").content.decode()
    assert 'data-testid="not-computed"' in before

    revenue_analytics_refresh(today=TODAY)

    def no_fitting(*args, **kwargs):
        raise AssertionError("the page must not fit a model")

    monkeypatch.setattr("tandem.revenue.selectors.fit_sbg", no_fitting)
    monkeypatch.setattr("tandem.revenue.services.fit_sbg", no_fitting)
    page = client.get("/revenue/retention/", {"by": "tier", "margin": "0.5", "discount_rate": "0.2"})
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="computed-at"' in body and "Computed by the daily pipeline" in body
    assert "Jul 1, 2026" in body  # the data's day, formatted for the locale
    assert "All accounts" in body


def test_a_currency_without_an_exchange_rate_is_a_clear_message_not_a_500(years):
    # The only CHF rate starts after the day the analytics are computed for.
    ExchangeRateFactory(currency="CHF", valid_from=dt.date(2026, 12, 1), rate=Decimal("1.1"))
    stray = AccountFactory(name="Stray", currency="CHF")
    _term(
        stray, dt.date(2025, 1, 1), None, [(ProductFactory(code="chf-seat"), 1, 100)], currency="CHF", status="active"
    )
    result = revenue_analytics_refresh(today=TODAY)
    assert "CHF" in result.error

    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get("/revenue/retention/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="analytics-error"' in body and "No exchange rate for CHF" in body
    # The report of an account still renders (without a lifetime value).
    assert stored_accounts_clv(account_ids=[stray.pk], today=TODAY) == {}
