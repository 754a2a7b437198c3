"""The pages render for the right people, with their data, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tandem.playbooks.catalog import install_shipped
from tandem.playbooks.models import CallToAction, Rule
from tandem.playbooks.providers import Providers
from tandem.playbooks.services import rules_evaluate
from tandem.success.models import SuccessMilestone
from tandem.users.services import user_create
from tests.factories import AccountFactory, as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    today = timezone.localdate()
    with as_fixture():
        csm = user_create(acting_user=None, username="cara", password="correct-horse-battery", roles=["csm"])
        manager = user_create(acting_user=None, username="max", password="correct-horse-battery", roles=["cs_manager"])
    for n in range(5):
        AccountFactory(
            name=f"Renewing {n}", renewal_date=today + dt.timedelta(days=20), csm_owner=csm, am_owner=csm, arr=50000
        )
    account = AccountFactory(name="Milestones Inc", csm_owner=csm)
    with as_fixture():
        SuccessMilestone.objects.create(account=account, title="Go live", due_date=today - dt.timedelta(days=2))
        install_shipped(acting_user=None)
        rules_evaluate(acting_user=None, today=today, providers=Providers())
    return {"csm": csm, "manager": manager, "account": account}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_day_lists_the_queue_in_few_queries(world, django_assert_max_num_queries) -> None:
    client = client_for(world["csm"])
    with django_assert_max_num_queries(12):
        page = client.get("/playbooks/my-day/")
    assert page.status_code == 200
    assert (
        page.content.decode().count('data-testid="queue-row"')
        == CallToAction.objects.filter(owner=world["csm"]).count()
        == 5
    )


def test_team_page_is_for_managers(world) -> None:
    assert client_for(world["csm"]).get("/playbooks/team/").status_code == 403
    page = client_for(world["manager"]).get("/playbooks/team/")
    assert page.status_code == 200 and "cara" in page.content.decode()


def test_cta_rules_notifications_and_account_sections_render(world) -> None:
    client = client_for(world["csm"])
    cta = CallToAction.objects.filter(owner=world["csm"]).first()
    assert "Close call to action" in client.get(f"/playbooks/ctas/{cta.pk}/").content.decode()
    assert client.get("/playbooks/rules/").status_code == 200
    rule = Rule.objects.get(key="renewal-30")
    assert client.get(f"/playbooks/rules/{rule.pk}/").status_code == 200
    preview = client.post("/playbooks/rules/preview/", {"trigger": "health_band", "params": "", "conditions": ""})
    assert "available" in preview.content.decode() or "match" in preview.content.decode()
    notes = client.get("/notifications/").content.decode()
    assert notes.count('data-testid="notification"') == 5
    account = world["account"]
    detail = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Success plan" in detail and "Calls to action" in detail
    section = client.get(f"/success/accounts/{account.pk}/milestones/").content.decode()
    assert "Go live" in section and "Overdue since" in section
    milestone = SuccessMilestone.objects.get()
    assert (
        "Reached"
        in client.post(f"/success/milestones/{milestone.pk}/complete/", HTTP_HX_REQUEST="true").content.decode()
    )
    assert client.get(f"/playbooks/accounts/{account.pk}/ctas/").status_code == 200
