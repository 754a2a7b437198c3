"""The account manager edits a contract's terms and line items from the account page."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.cache import cache

from tandem.subscriptions.models import Subscription
from tandem.subscriptions.services import SubscriptionItemInput, subscription_create
from tandem.users.services import user_create
from tests.factories import AccountFactory, ProductFactory, as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()


def _user(username: str, role: str):
    with as_fixture():
        return user_create(acting_user=None, username=username, password=None, roles=[role])


@pytest.fixture
def am():
    return _user("avery", "account_manager")


@pytest.fixture
def contract(am):
    account = AccountFactory(name="Acme", am_owner=am)
    seat, addon = ProductFactory(code="seat", name="Seat"), ProductFactory(code="sso", name="SSO", kind="addon")
    with as_fixture():
        term = subscription_create(
            acting_user=None,
            account=account,
            start_date=dt.date(2026, 1, 1),
            end_date=dt.date(2026, 12, 31),
            items=[SubscriptionItemInput(product=seat, quantity=D(10), unit_price=D(100))],
        )
    return account, term, seat, addon


def _post(term, seat, addon, **changes):
    data = {
        "start_date": "2026-01-01", "end_date": "2027-06-30", "renewal_date": "2027-07-01", "billing_period": "12",
        "status": "active", "currency": "USD", "auto_renew": "on",
        "items-TOTAL_FORMS": "3", "items-INITIAL_FORMS": "1",
        "items-0-product": seat.pk, "items-0-quantity": "12", "items-0-unit_price": "100",
        "items-1-product": addon.pk, "items-1-quantity": "1", "items-1-unit_price": "50",
        "items-2-product": "", "items-2-quantity": "", "items-2-unit_price": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_an_am_edits_terms_and_line_items(client, am, contract):
    account, term, seat, addon = contract
    client.force_login(am)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/subscriptions/{term.pk}/edit/"' in page

    response = client.post(f"/subscriptions/{term.pk}/edit/", _post(term, seat, addon))

    assert response.status_code == 302
    term.refresh_from_db()
    account.refresh_from_db()
    assert (term.end_date, term.auto_renew) == (dt.date(2027, 6, 30), True)
    assert sorted((i.product.code, i.quantity) for i in term.items.all()) == [("seat", 12), ("sso", 1)]
    assert term.mrr == D("104.17")  # (12 x 100 + 50) a year
    assert account.arr == term.arr


def test_removing_a_line(client, am, contract):
    _account, term, seat, addon = contract
    client.force_login(am)
    client.post(f"/subscriptions/{term.pk}/edit/", _post(term, seat, addon, **{"items-0-DELETE": "on"}))
    assert [i.product.code for i in term.items.all()] == ["sso"]


def test_errors_on_terms_and_lines_show_at_once_and_nothing_changes(client, am, contract):
    _account, term, seat, addon = contract
    client.force_login(am)
    response = client.post(
        f"/subscriptions/{term.pk}/edit/",
        _post(term, seat, addon, end_date="someday", **{"items-1-quantity": "-3"}),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_end_date-errors"' in html and "greater than or equal to 0" in html
    # What only the service checks lands on the field too.
    response = client.post(f"/subscriptions/{term.pk}/edit/", _post(term, seat, addon, end_date="2025-01-01"))
    assert response.status_code == 400 and 'id="id_end_date-errors"' in response.content.decode()
    term.refresh_from_db()
    assert term.end_date == dt.date(2026, 12, 31) and term.items.count() == 1


def test_an_am_adds_a_contract_term(client, am, contract):
    account, _term, seat, addon = contract
    client.force_login(am)
    assert client.get(f"/subscriptions/accounts/{account.pk}/new/").status_code == 200
    data = _post(None, seat, addon, start_date="2027-01-01", end_date="2027-12-31", **{"items-INITIAL_FORMS": "0"})
    assert client.post(f"/subscriptions/accounts/{account.pk}/new/", data).status_code == 302
    assert Subscription.objects.filter(account=account).count() == 2


def test_a_csm_cannot_edit_contracts(client, contract):
    account, term, _seat, _addon = contract
    csm = _user("casey", "csm")
    client.force_login(csm)
    assert "Edit contract" not in client.get(f"/accounts/{account.pk}/").content.decode()
    assert client.get(f"/subscriptions/{term.pk}/edit/").status_code == 403
    account.csm_owner = csm
    with as_fixture():
        account.save()
    assert client.get(f"/subscriptions/accounts/{account.pk}/new/").status_code == 403
