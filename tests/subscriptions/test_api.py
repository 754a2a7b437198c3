import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tandem.subscriptions.models import Subscription, SubscriptionItem
from tests.api.helpers import ApiClient, api_fixture, assert_problem  # noqa: F401
from tests.factories import (
    AccountFactory,
    ExchangeRateFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
)

pytestmark = pytest.mark.django_db


def current_dates() -> dict[str, str]:
    today = timezone.localdate()
    return {
        "start_date": str(today - dt.timedelta(days=10)),
        "end_date": str(today + dt.timedelta(days=355)),
        "renewal_date": str(today + dt.timedelta(days=356)),
    }


def test_subscription_crud_round_trip_with_items(api: ApiClient):
    account = AccountFactory(currency="EUR")
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.25"))
    seats, sso = ProductFactory(code="seats", name="Seats"), ProductFactory(code="sso", name="SSO")
    dates = current_dates()

    created = api.post(
        "/subscriptions/",
        {
            "account": account.pk,
            "external_id": "sub-1",
            "billing_period": 12,
            **dates,
            "items": [
                {"product": seats.pk, "quantity": "10", "unit_price": "120.00"},
                {"product": sso.pk, "unit_price": 600},
            ],
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    sub_id = body["id"]
    assert {k: body[k] for k in ("account", "currency", "billing_period", "status", "mrr", "arr")} == {
        "account": account.pk,
        "currency": "EUR",
        "billing_period": 12,
        "status": "active",
        "mrr": "150.00",
        "arr": "1800.00",
    }
    assert [
        (i["product"], i["product_code"], i["quantity"], i["unit_price"], i["amount_per_period"]) for i in body["items"]
    ] == [
        (seats.pk, "seats", "10.00", "120.0000", "1200.00"),
        (sso.pk, "sso", "1.00", "600.0000", "600.00"),
    ]
    account.refresh_from_db()
    assert (account.mrr, account.arr) == (Decimal("187.50"), Decimal("2250.00"))

    patched = api.patch(
        f"/subscriptions/{sub_id}",
        {"items": [{"product": seats.pk, "quantity": 20, "unit_price": "120"}]},
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["mrr"], len(patched.json()["items"])) == ("200.00", 1)
    assert list(SubscriptionItem.objects.values_list("product__code", "quantity")) == [("seats", Decimal("20.00"))]
    account.refresh_from_db()
    assert account.mrr == Decimal("250.00")

    status_only = api.patch(f"/subscriptions/{sub_id}", {"status": "canceled"})
    assert len(status_only.json()["items"]) == 1
    account.refresh_from_db()
    assert account.mrr == Decimal("0.00")

    assert api.delete(f"/subscriptions/{sub_id}").status_code == 204
    assert (Subscription.objects.count(), SubscriptionItem.objects.count()) == (0, 0)


def _counts() -> tuple[int, int]:
    return Subscription.objects.count(), SubscriptionItem.objects.count()


@pytest.mark.parametrize(
    ("change", "status", "fields"),
    [
        ({"items": [{"product": 0, "unit_price": 1}]}, 422, ["items.0.product"]),
        ({"items": [{"unit_price": "x"}]}, 422, ["items.0.product", "items.0.unit_price"]),
        ({"billing_period": 5}, 422, ["billing_period"]),
        ({"status": "live"}, 422, ["status"]),
        ({"start_date": "yesterday"}, 422, ["start_date"]),
        ({"currency": "12$"}, 400, ["currency"]),
        ({"currency": "CHF"}, 400, ["currency"]),
        ({"end_date": "2020-01-01"}, 400, ["end_date"]),
        ({"items": [{"product": 987654, "unit_price": 1}]}, 400, ["items.0.product"]),
        (
            {"items": [{"product": "SEATS", "quantity": "-2", "unit_price": "1"}]},
            400,
            ["items.0.quantity"],
        ),
    ],
)
def test_bad_subscription_payloads_name_the_field_and_write_nothing(
    api: ApiClient, change: dict, status: int, fields: list[str]
):
    account = AccountFactory()
    seats = ProductFactory(code="seats")
    for item in change.get("items", []):
        if item.get("product") == "SEATS":
            item["product"] = seats.pk
    payload = {"account": account.pk, **current_dates(), **change}

    response = api.post("/subscriptions/", payload)

    assert_problem(response, status, fields)
    assert _counts() == (0, 0)
    account.refresh_from_db()
    assert account.mrr == Decimal("0")


def test_refused_patch_keeps_the_stored_items(api: ApiClient):
    item = SubscriptionItemFactory(quantity=Decimal("5"))
    sub = item.subscription

    response = api.patch(
        f"/subscriptions/{sub.pk}",
        {"items": [{"product": item.product_id, "quantity": 1, "unit_price": "-1"}]},
    )

    assert_problem(response, 400, ["items.0.unit_price"])
    assert list(SubscriptionItem.objects.values_list("pk", "quantity")) == [(item.pk, Decimal("5"))]


def test_subscription_list_filters(api: ApiClient):
    account = AccountFactory()
    soon = SubscriptionFactory(account=account, renewal_date=dt.date(2025, 3, 1))
    later = SubscriptionFactory(account=account, renewal_date=dt.date(2025, 9, 1), status="trialing")
    SubscriptionFactory(renewal_date=dt.date(2025, 3, 1))  # another account

    def ids(params: dict) -> list[int]:
        return [i["id"] for i in api.get("/subscriptions/", params).json()["items"]]

    assert ids({"account": account.pk, "renewal_before": "2025-06-30"}) == [soon.pk]
    assert ids({"account": account.pk, "renewal_after": "2025-06-30"}) == [later.pk]
    assert ids({"status": "trialing"}) == [later.pk]
    assert_problem(api.get("/subscriptions/", {"renewal_before": "soon"}), 422, ["renewal_before"])


@pytest.mark.parametrize("size", [2, 8])
def test_subscription_list_query_count_does_not_grow_with_the_page(
    api: ApiClient, django_assert_num_queries, size: int
):
    for n in range(size):
        item = SubscriptionItemFactory(product=ProductFactory(code=f"p{n}"))
        SubscriptionItemFactory(subscription=item.subscription, product=item.product)
    api.get("/subscriptions/")
    # token, permissions (2), access rule (2), count, page, items with their products
    with django_assert_num_queries(8):
        response = api.get("/subscriptions/")
    assert [len(s["items"]) for s in response.json()["items"]] == [2] * size
