import datetime as dt
from decimal import Decimal

import pytest

from tandem.core.errors import DomainError
from tandem.subscriptions.models import (
    BillingPeriod,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from tandem.subscriptions.services import (
    SubscriptionItemInput,
    account_refresh_revenue,
    subscription_create,
    subscription_delete,
    subscription_recompute_totals,
    subscription_update,
)
from tests.factories import (
    AccountFactory,
    ExchangeRateFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 6, 1)


def test_mrr_normalises_each_billing_period_and_arr_is_twelve_times_mrr():
    quarterly = SubscriptionFactory(billing_period=BillingPeriod.QUARTERLY)
    SubscriptionItemFactory(subscription=quarterly, quantity=Decimal("7"), unit_price=Decimal("100.00"))
    SubscriptionItemFactory(
        subscription=quarterly,
        product=ProductFactory(code="sso"),
        quantity=1,
        unit_price=Decimal("50"),
    )

    subscription_recompute_totals(subscription=quarterly)

    # (7 * 100 + 50) / 3 months = 250.00
    assert quarterly.mrr == Decimal("250.00")
    assert quarterly.arr == Decimal("3000.00")


def test_mrr_rounds_once_at_the_end_not_per_line():
    annual = SubscriptionFactory(billing_period=BillingPeriod.ANNUAL)
    for code in ("a", "b", "c"):
        SubscriptionItemFactory(
            subscription=annual,
            product=ProductFactory(code=code),
            quantity=1,
            unit_price=Decimal("1.00"),
        )

    subscription_recompute_totals(subscription=annual)

    # 3.00 / 12 = 0.25 exactly; per-line rounding would give 3 * 0.08 = 0.24
    assert annual.mrr == Decimal("0.25")


def test_account_revenue_converts_to_reporting_currency_and_picks_next_renewal():
    account = AccountFactory(currency="EUR")
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.10"))
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 5, 1), rate=Decimal("1.20"))
    live = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
        renewal_date=dt.date(2026, 1, 1),
    )
    SubscriptionItemFactory(subscription=live, quantity=10, unit_price=Decimal("120"))
    subscription_recompute_totals(subscription=live)
    ended = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        status=SubscriptionStatus.ENDED,
    )
    SubscriptionItemFactory(subscription=ended, quantity=99, unit_price=Decimal("120"))
    subscription_recompute_totals(subscription=ended)

    assert account_refresh_revenue(account_ids=[account.id], on=TODAY) == 1

    account.refresh_from_db()
    assert account.mrr == Decimal("120.00")  # 100 EUR * 1.20
    assert account.arr == Decimal("1440.00")
    assert account.renewal_date == dt.date(2026, 1, 1)
    assert account_refresh_revenue(account_ids=[account.id], on=TODAY) == 0


def test_missing_exchange_rate_is_an_error_naming_the_currency():
    account = AccountFactory()
    sub = SubscriptionFactory(account=account, currency="CHF")
    SubscriptionItemFactory(subscription=sub)
    subscription_recompute_totals(subscription=sub)

    with pytest.raises(DomainError) as excinfo:
        account_refresh_revenue(account_ids=[account.id], on=TODAY)

    assert "CHF" in str(excinfo.value)
    account.refresh_from_db()
    assert account.mrr == Decimal("0")


# --- subscription_create / subscription_update / subscription_delete ------------------------------


def _current_term() -> dict:
    """A term that is current whatever day the suite runs on."""
    from django.utils import timezone

    today = timezone.localdate()
    return {
        "start_date": today - dt.timedelta(days=30),
        "end_date": today + dt.timedelta(days=300),
        "renewal_date": today + dt.timedelta(days=301),
    }


def test_subscription_create_computes_totals_and_refreshes_account_revenue():
    account = AccountFactory(currency="EUR")
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.10"))
    seats, sso = ProductFactory(code="seats"), ProductFactory(code="sso")
    term = _current_term()

    subscription = subscription_create(
        acting_user=None,
        account=account,
        billing_period=BillingPeriod.ANNUAL,
        items=[
            SubscriptionItemInput(product=seats, quantity=Decimal("10"), unit_price=Decimal("120")),
            SubscriptionItemInput(product=sso, quantity=Decimal("1"), unit_price=Decimal("240")),
        ],
        **term,
    )

    assert subscription.currency == "EUR"  # the account's currency by default
    assert (subscription.mrr, subscription.arr) == (Decimal("120.00"), Decimal("1440.00"))
    assert SubscriptionItem.objects.filter(subscription=subscription).count() == 2
    account.refresh_from_db()
    assert account.mrr == Decimal("132.00")  # 120 EUR * 1.10
    assert account.arr == Decimal("1584.00")
    assert account.renewal_date == term["renewal_date"]


def test_refused_subscription_names_every_bad_field_and_writes_nothing():
    account = AccountFactory()
    product = ProductFactory(code="seats")

    with pytest.raises(DomainError) as excinfo:
        subscription_create(
            acting_user=None,
            account=account,
            start_date=dt.date(2025, 6, 1),
            end_date=dt.date(2025, 5, 1),
            items=[
                SubscriptionItemInput(product=product, quantity=Decimal("1"), unit_price=Decimal("9")),
                SubscriptionItemInput(product=product, quantity=Decimal("-1"), unit_price=Decimal("9")),
            ],
        )

    assert excinfo.value.status == 400
    assert [e.field for e in excinfo.value.errors] == ["end_date", "items.1.quantity"]
    assert Subscription.objects.count() == 0
    assert SubscriptionItem.objects.count() == 0


def test_subscription_currency_needs_an_exchange_rate():
    account = AccountFactory()

    with pytest.raises(DomainError) as excinfo:
        subscription_create(acting_user=None, account=account, start_date=dt.date(2025, 1, 1), currency="chf")

    assert [e.field for e in excinfo.value.errors] == ["currency"]
    assert "CHF" in excinfo.value.errors[0].message
    assert Subscription.objects.count() == 0


def test_duplicate_subscription_external_id_is_a_conflict():
    SubscriptionFactory(external_id="sub-1")

    with pytest.raises(DomainError) as excinfo:
        subscription_create(
            acting_user=None, account=AccountFactory(), start_date=dt.date(2025, 1, 1), external_id="sub-1"
        )

    assert excinfo.value.status == 409
    assert [e.field for e in excinfo.value.errors] == ["external_id"]


def test_subscription_update_replaces_items_and_moves_revenue_between_accounts():
    first, second = AccountFactory(), AccountFactory()
    seats = ProductFactory(code="seats")
    subscription = subscription_create(
        acting_user=None,
        account=first,
        billing_period=BillingPeriod.MONTHLY,
        items=[SubscriptionItemInput(product=seats, quantity=Decimal("2"), unit_price=Decimal("50"))],
        **_current_term(),
    )
    first.refresh_from_db()
    assert first.mrr == Decimal("100.00")

    subscription_update(
        acting_user=None,
        subscription=subscription,
        data={"account": second},
        items=[SubscriptionItemInput(product=seats, quantity=Decimal("3"), unit_price=Decimal("50"))],
    )

    assert list(subscription.items.values_list("quantity", flat=True)) == [Decimal("3")]
    assert subscription.mrr == Decimal("150.00")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.mrr, second.mrr) == (Decimal("0"), Decimal("150.00"))


def test_subscription_update_without_items_keeps_them_and_refused_update_changes_nothing():
    account = AccountFactory()
    subscription = subscription_create(
        acting_user=None,
        account=account,
        items=[
            SubscriptionItemInput(
                product=ProductFactory(code="seats"),
                quantity=Decimal("12"),
                unit_price=Decimal("10"),
            )
        ],
        **_current_term(),
    )

    subscription_update(acting_user=None, subscription=subscription, data={"status": SubscriptionStatus.PAUSED})
    assert subscription.items.count() == 1
    account.refresh_from_db()
    assert account.mrr == Decimal("0")  # paused terms earn nothing

    with pytest.raises(DomainError):
        subscription_update(acting_user=None, subscription=subscription, data={"end_date": dt.date(2000, 1, 1)})
    stored = Subscription.objects.get(pk=subscription.pk)
    assert (stored.status, stored.end_date) == ("paused", _current_term()["end_date"])


def test_subscription_delete_refreshes_the_account_revenue():
    account = AccountFactory()
    subscription = subscription_create(
        acting_user=None,
        account=account,
        billing_period=BillingPeriod.MONTHLY,
        items=[
            SubscriptionItemInput(
                product=ProductFactory(code="seats"),
                quantity=Decimal("1"),
                unit_price=Decimal("99"),
            )
        ],
        **_current_term(),
    )
    account.refresh_from_db()
    assert account.mrr == Decimal("99.00")

    subscription_delete(acting_user=None, subscription=subscription)

    account.refresh_from_db()
    assert (account.mrr, account.renewal_date) == (Decimal("0"), None)
    assert SubscriptionItem.objects.count() == 0
