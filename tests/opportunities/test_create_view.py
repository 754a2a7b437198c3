"""Opening an expansion opportunity with the account picker (pipeline page and account page)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tandem.opportunities.models import Opportunity
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = pytest.mark.django_db
LATER = (timezone.localdate() + dt.timedelta(days=45)).isoformat()


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
def am_client(client, am):
    client.force_login(am)
    return client


def test_the_pipeline_page_chooses_the_account_with_a_picker_not_an_id(am_client):
    html = am_client.get("/opportunities/pipeline/").content.decode()
    assert 'type="number" name="account"' not in html
    assert 'list="id_account-options"' in html and 'hx-get="/accounts/search/?field=account"' in html


def test_an_am_opens_an_upsell_from_the_account_page(am_client, am):
    account = AccountFactory(name="Acme", am_owner=am)
    page = am_client.get(f"/accounts/{account.pk}/").content.decode()
    assert f'href="/opportunities/new/?account={account.pk}"' in page
    form = am_client.get(f"/opportunities/new/?account={account.pk}").content.decode()
    assert f'value="Acme (#{account.pk})"' in form

    response = am_client.post(
        "/opportunities/new/",
        {"account": f"Acme (#{account.pk})", "kind": "cross_sell", "amount": "5000", "close_date": LATER},
    )

    opportunity = Opportunity.objects.get(account=account)
    assert response["Location"] == f"/opportunities/{opportunity.pk}/"
    assert (opportunity.kind, opportunity.amount, opportunity.owner) == ("cross_sell", 5000, am)


def test_an_account_named_exactly_needs_no_id(am_client, am):
    account = AccountFactory(name="Globex", am_owner=am)
    am_client.post("/opportunities/new/", {"account": "globex", "kind": "upsell", "amount": "10", "close_date": LATER})
    assert Opportunity.objects.filter(account=account).exists()


def test_every_error_is_on_its_field(am_client, am):
    AccountFactory(name="Twin", am_owner=am)
    AccountFactory(name="Twin", am_owner=am)
    response = am_client.post("/opportunities/new/", {"account": "Twin", "kind": "renewal", "amount": "-1"})
    html = response.content.decode()
    assert response.status_code == 400
    for field in ("account", "kind", "amount", "close_date"):
        assert f'id="id_{field}-errors"' in html, field
    assert "Several accounts" in html
    assert not Opportunity.objects.exists()


def test_who_may_open_one(client, am):
    client.force_login(_user("casey", "csm"))
    assert client.get("/opportunities/new/").status_code == 403  # CSMs change no commercial records
    theirs = AccountFactory(name="Theirs", am_owner=_user("other", "account_manager"))
    client.force_login(am)
    response = client.post(
        "/opportunities/new/",
        {"account": f"Theirs (#{theirs.pk})", "kind": "upsell", "amount": "1", "close_date": LATER},
    )
    assert response.status_code == 403  # seen, not in the AM's book
    assert not Opportunity.objects.exists()
