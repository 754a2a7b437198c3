import datetime as dt
from decimal import Decimal

import pytest

from tandem.metrics.sources import milestones_arrow, nps_arrow, terms_arrow, tickets_arrow
from tandem.success.models import SuccessMilestone
from tandem.surveys.models import NpsResponse
from tests.factories import (
    AccountFactory,
    ExchangeRateFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    TicketFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
UTC = dt.UTC


def midnight(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def test_terms_convert_mrr_at_the_rate_valid_on_each_start_and_sum_plan_seats():
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=Decimal("1.10"))
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 2, 1), rate=Decimal("1.20"))
    account = AccountFactory()
    addon = ProductFactory(code="addon", kind="addon")
    early = SubscriptionFactory(account=account, currency="EUR", start_date=dt.date(2023, 6, 1), end_date=None)
    jan = SubscriptionFactory(account=account, currency="EUR", start_date=dt.date(2025, 1, 1))
    march = SubscriptionFactory(account=account, currency="EUR", start_date=dt.date(2025, 3, 1))
    usd = SubscriptionFactory(account=account, currency="USD", start_date=dt.date(2025, 3, 1))
    unknown = SubscriptionFactory(account=account, currency="JPY", start_date=dt.date(2025, 3, 1))
    SubscriptionItemFactory(subscription=jan, quantity=Decimal("7"))
    SubscriptionItemFactory(subscription=jan, quantity=Decimal("3"))
    SubscriptionItemFactory(subscription=jan, product=addon, quantity=Decimal("50"))  # not a seat
    from tandem.subscriptions.models import Subscription

    Subscription.objects.filter(pk__in=[early.pk, jan.pk, march.pk, usd.pk, unknown.pk]).update(mrr=Decimal("100.50"))

    rows = {r["start_ts"]: r for r in terms_arrow().to_pylist() if r["account_id"] == account.pk}
    by_id = {
        early.pk: rows[midnight(2023, 6, 1)],
        jan.pk: rows[midnight(2025, 1, 1)],
    }
    assert by_id[early.pk]["end_ts"] is None
    assert by_id[early.pk]["mrr"] == pytest.approx(110.55)  # before the first rate: the first rate
    assert by_id[jan.pk]["mrr"] == pytest.approx(110.55)
    assert by_id[jan.pk]["seats"] == 10.0
    assert by_id[jan.pk]["end_ts"] == midnight(2025, 12, 31)
    march_rows = sorted(r["mrr"] for r in terms_arrow().to_pylist() if r["start_ts"] == midnight(2025, 3, 1))
    assert march_rows[:2] == [pytest.approx(100.5), pytest.approx(120.6)]
    assert march_rows[2] != march_rows[2]  # JPY has no rate: NaN, never a made-up number


def test_relational_sources_keep_times_and_nulls():
    account = AccountFactory()
    TicketFactory(account=account, opened_at=dt.datetime(2025, 1, 5, 10, 30, 15, 250000, tzinfo=UTC))
    NpsResponse.objects.create(account=account, score=7, responded_at=dt.datetime(2025, 2, 1, 9, tzinfo=UTC))
    SuccessMilestone.objects.create(account=account, title="Go live", due_date=dt.date(2025, 3, 1))

    assert tickets_arrow().to_pylist() == [
        {
            "account_id": account.pk,
            "opened_at": dt.datetime(2025, 1, 5, 10, 30, 15, 250000, tzinfo=UTC),
            "closed_at": None,
        }
    ]
    assert nps_arrow().to_pylist() == [
        {"account_id": account.pk, "responded_at": dt.datetime(2025, 2, 1, 9, tzinfo=UTC), "score": 7.0}
    ]
    assert milestones_arrow().to_pylist() == [
        {"account_id": account.pk, "due_ts": midnight(2025, 3, 1), "completed_at": None}
    ]
