"""The renewal center and the pipeline show their totals and one page at a time."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    cache.clear()


@pytest.fixture
def am_client(client):
    with as_fixture():
        am = user_create(acting_user=None, username="avery", password=None, roles=["account_manager"])
    client.force_login(am)
    return client


def _opportunities(n: int, kind: str) -> None:
    with as_fixture():
        for i in range(n):
            Opportunity.objects.create(
                account=AccountFactory(name=f"Customer {i:03}"),
                kind=kind,
                name=f"Deal {i:03}",
                amount=Decimal("1000"),
                current_arr=Decimal("1000"),
                stage=Stage.QUALIFY,
                probability=Decimal("20"),
                close_date=TODAY + dt.timedelta(days=1 + i % 60),
            )


def test_the_renewal_center_pages_its_renewals(am_client):
    _opportunities(55, OpportunityKind.RENEWAL)
    first = am_client.get("/opportunities/renewals/").content.decode()
    assert first.count("/opportunities/") > 50 and first.count('<tr>\n        <td><a href="/opportunities/') == 50
    assert '<span class="count" data-testid="list-total">55</span>' in first and "Page 1 of 2" in first
    second = am_client.get("/opportunities/renewals/", {"page": "2"}).content.decode()
    assert second.count('<tr>\n        <td><a href="/opportunities/') == 5


def test_the_pipeline_pages_its_columns(am_client):
    _opportunities(25, OpportunityKind.UPSELL)
    first = am_client.get("/opportunities/pipeline/").content.decode()
    assert first.count('class="deal"') == 20 and 'data-testid="list-total">25<' in first
    assert '<span class="count">25</span>' in first  # the column counts them all
    assert am_client.get("/opportunities/pipeline/", {"page": "2"}).content.decode().count('class="deal"') == 5
