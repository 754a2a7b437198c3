"""A CSM restricted to her book reaches nothing of another book, on any path; her manager reaches all of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tandem.access.models import AccessPolicy, BookScope
from tandem.audit.context import audit_context
from tandem.opportunities.models import Opportunity, OpportunityKind, Stage
from tandem.playbooks.models import CallToAction, CtaType
from tandem.users.roles import Role
from tests.api.helpers import ApiClient, api_client_for
from tests.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
    TicketFactory,
)

TODAY = timezone.localdate()


@dataclass
class Book:
    account: object
    contact: object
    subscription: object
    cta: CallToAction
    opportunity: Opportunity
    ticket: object
    interaction: object


def _book(owner, name: str) -> Book:
    with audit_context(via="fixture"):
        account = AccountFactory(name=name, csm_owner=owner, arr=Decimal("36000"), mrr=Decimal("3000"))
        subscription = SubscriptionFactory(
            account=account, start_date=TODAY - dt.timedelta(days=30), end_date=TODAY + dt.timedelta(days=335)
        )
        SubscriptionItemFactory(subscription=subscription, unit_price=Decimal("1000.00"), quantity=Decimal("3"))
        cta = CallToAction.objects.create(
            account=account, type=CtaType.RISK, title=f"Save {name}", owner=owner, opened_on=TODAY, due_date=TODAY
        )
        opportunity = Opportunity.objects.create(
            account=account,
            kind=OpportunityKind.UPSELL,
            name=f"{name} upsell",
            amount=Decimal("9000"),
            stage=Stage.QUALIFY,
            probability=Decimal("20"),
            close_date=TODAY + dt.timedelta(days=30),
        )
        return Book(
            account=account,
            contact=ContactFactory(account=account, first_name=name, last_name="Contact"),
            subscription=subscription,
            cta=cta,
            opportunity=opportunity,
            ticket=TicketFactory(account=account, subject=f"{name} ticket"),
            interaction=InteractionFactory(account=account, subject=f"{name} call"),
        )


@pytest.fixture
def world(db):
    ana = api_client_for(Role.CSM, "ana")
    bob = api_client_for(Role.CSM, "bob")
    manager = api_client_for(Role.CS_MANAGER, "maria")
    with audit_context(via="fixture"):
        AccessPolicy.objects.create(
            role=Role.CSM, view_accounts=BookScope.OWN, change_accounts=BookScope.OWN, see_contract_values=False
        )
    return {
        "ana": ana,
        "bob": bob,
        "manager": manager,
        "mine": _book(ana.user, "Anacorp"),
        "theirs": _book(bob.user, "Bobcorp"),
    }


def _web(api: ApiClient) -> Client:
    client = Client()
    client.force_login(api.user)
    return client


def _api_paths(book: Book) -> list[str]:
    return [
        f"/accounts/{book.account.pk}",
        f"/contacts/{book.contact.pk}",
        f"/subscriptions/{book.subscription.pk}",
        f"/tickets/{book.ticket.pk}",
        f"/interactions/{book.interaction.pk}",
        f"/health/accounts/{book.account.pk}",
    ]


def _pages(book: Book) -> list[str]:
    return [
        f"/accounts/{book.account.pk}/",
        f"/accounts/{book.account.pk}/usage-chart/",
        f"/reports/accounts/{book.account.pk}/",
        f"/playbooks/ctas/{book.cta.pk}/",
        f"/playbooks/accounts/{book.account.pk}/ctas/",
        f"/opportunities/{book.opportunity.pk}/",
        f"/health/account/{book.account.pk}/",
        f"/success/accounts/{book.account.pk}/milestones/",
        f"/opportunities/account/{book.account.pk}/",
    ]


def test_restricted_csm_reaches_nothing_of_another_book_through_the_api(world):
    ana, theirs = world["ana"], world["theirs"]
    for path in _api_paths(theirs):
        assert ana.get(path).status_code == 404, path
    lists = {
        "/accounts/": "name",
        "/contacts/": "first_name",
        "/subscriptions/": "account_id",
        "/tickets/": "subject",
        "/interactions/": "subject",
        "/playbooks/ctas": "title",
        "/opportunities/": "name",
        "/health/current": "account_id",
    }
    for path in lists:
        body = ana.get(path).json()
        items = body["items"] if isinstance(body, dict) else body
        text = str(items)
        assert "Bobcorp" not in text, path
        assert f"'account_id': {theirs.account.pk}" not in text, path
    assert ana.get("/accounts/", {"q": "Bobcorp"}).json()["count"] == 0
    assert ana.patch(f"/accounts/{theirs.account.pk}", {"name": "Mine now"}).status_code == 404
    assert ana.post(f"/playbooks/ctas/{theirs.cta.pk}/close", {"outcome": "success"}).status_code == 404
    assert ana.post(f"/opportunities/{theirs.opportunity.pk}/stage", {"stage": "closed_won"}).status_code == 404
    theirs.account.refresh_from_db()
    theirs.cta.refresh_from_db()
    assert theirs.account.name == "Bobcorp" and theirs.cta.is_open


def test_restricted_csm_reaches_nothing_of_another_book_through_the_pages(world):
    web = _web(world["ana"])
    for path in _pages(world["theirs"]):
        assert web.get(path).status_code == 404, path
    listing = web.get("/accounts/", {"q": "corp"}).content.decode()
    assert "Anacorp" in listing and "Bobcorp" not in listing
    for path in ("/opportunities/renewals/", "/opportunities/pipeline/", "/health/", "/playbooks/my-day/", "/"):
        page = web.get(path)
        assert page.status_code == 200, path
        assert "Bobcorp" not in page.content.decode(), path


def test_contract_values_are_masked_the_same_way_everywhere(world):
    ana, mine = world["ana"], world["mine"]
    assert ana.get(f"/accounts/{mine.account.pk}").json()["arr"] is None
    subscription = ana.get(f"/subscriptions/{mine.subscription.pk}").json()
    assert subscription["arr"] is None and subscription["mrr"] is None
    assert subscription["items"][0]["unit_price"] is None and subscription["items"][0]["amount_per_period"] is None
    assert {o["amount"] for o in ana.get("/opportunities/").json()["items"]} == {None}
    assert ana.get("/accounts/", {"ordering": "-arr"}).status_code == 422
    web = _web(ana)
    for path in (
        f"/accounts/{mine.account.pk}/",
        f"/reports/accounts/{mine.account.pk}/",
        f"/opportunities/{mine.opportunity.pk}/",
        "/opportunities/pipeline/",
    ):
        html = web.get(path).content.decode()
        assert 'class="masked"' in html, path
        assert "$9,000" not in html and "$36,000" not in html, path
    assert web.get("/revenue/").status_code == 403
    assert web.get("/opportunities/forecast/").status_code == 403
    refused = web.get("/revenue/")
    assert "Not allowed" in refused.content.decode() and 'class="topbar"' in refused.content.decode()


def test_her_manager_reaches_both_books_with_values(world):
    manager, theirs = world["manager"], world["theirs"]
    for path in _api_paths(theirs):
        assert manager.get(path).status_code == 200, path
    assert manager.get(f"/accounts/{theirs.account.pk}").json()["arr"] == "36000.00"
    assert manager.get("/accounts/").json()["count"] == 2
    web = _web(manager)
    for path in _pages(theirs):
        assert web.get(path).status_code == 200, path
    assert "$9,000" in web.get(f"/opportunities/{theirs.opportunity.pk}/").content.decode()


def test_default_csm_sees_every_account_but_changes_only_her_own(db):
    ana = api_client_for(Role.CSM, "ana")
    with audit_context(via="fixture"):
        mine = AccountFactory(name="Mine", csm_owner=ana.user)
        other = AccountFactory(name="Other")
    assert ana.get(f"/accounts/{other.pk}").status_code == 200
    assert ana.patch(f"/accounts/{mine.pk}", {"name": "Mine 2"}).status_code == 200
    refused = ana.patch(f"/accounts/{other.pk}", {"name": "Other 2"})
    assert refused.status_code == 403 and refused.json()["detail"] == "You may not change this account."
    other.refresh_from_db()
    assert other.name == "Other"


def test_only_managers_change_configuration(db):
    ana = api_client_for(Role.CSM, "ana")
    manager = api_client_for(Role.CS_MANAGER, "maria")
    web = _web(ana)
    assert (
        web.post(
            "/opportunities/forecast/quota/", {"owner": ana.user.pk, "period_start": "2026-10-01", "amount": "1000"}
        ).status_code
        == 403
    )
    assert ana.post("/playbooks/rules", {"name": "x", "trigger": "health_band", "playbook": 1}).status_code == 403
    assert _web(manager).get("/playbooks/team/").status_code == 200
    assert web.get("/playbooks/team/").status_code == 403
