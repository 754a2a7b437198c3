"""Each list has one read path: the REST API and the page show a person the same rows in the same order."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.users.roles import Role
from tests.access.world import TODAY, World
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _api_ids(world: World, role: Role, path: str) -> list[int]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.secrets[world.users[role].pk]}")
    response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return [item["id"] for item in items]


@pytest.mark.parametrize("role", [Role.CSM, Role.ACCOUNT_MANAGER, Role.CS_MANAGER])
def test_the_account_page_and_the_api_list_the_same_related_rows(world: World, role: Role):
    from tandem.accounts.selectors import account_360
    from tandem.opportunities.selectors import account_opportunities
    from tandem.playbooks.selectors import account_open_ctas
    from tandem.support.selectors import account_tickets
    from tandem.timeline.selectors import account_timeline

    user = world.users[role]
    account = world.inside.account
    today = TODAY
    # Orders the two lists once disagreed on: a primary contact who has left, a colleague still there.
    ContactFactory(
        account=account, first_name="Ann", last_name="Zed", is_primary=True, still_at_company=False, left_on=TODAY
    )
    ContactFactory(account=account, first_name="Bob", last_name="Able")
    page = {
        "contacts": [c.pk for c in account_360(account_id=account.pk, today=today, user=user).contacts],
        "terms": [t.subscription.pk for t in account_360(account_id=account.pk, today=today, user=user).terms],
        "interactions": [i.pk for i in account_timeline(user=user, account_id=account.pk, limit=100)],
        "ctas": [c.pk for c in account_open_ctas(user=user, account_id=account.pk)],
        "opportunities": [o.pk for o in account_opportunities(user=user, account_id=account.pk)],
        "tickets": sorted(t.pk for t in account_tickets(user=user, account_id=account.pk, limit=100)),
    }
    api = {
        "contacts": _api_ids(world, role, f"/api/v1/contacts/?account={account.pk}&limit=500"),
        "terms": _api_ids(world, role, f"/api/v1/subscriptions/?account={account.pk}&limit=500"),
        "interactions": _api_ids(world, role, f"/api/v1/interactions/?account={account.pk}&limit=500"),
        "ctas": _api_ids(world, role, f"/api/v1/playbooks/ctas?account={account.pk}&status=open&limit=500"),
        "opportunities": _api_ids(world, role, f"/api/v1/opportunities/?account_id={account.pk}&limit=500"),
        "tickets": sorted(_api_ids(world, role, f"/api/v1/tickets/?account={account.pk}&limit=500")),
    }
    assert page == api
    assert all(page.values()), page  # the world gives the account one of each


@pytest.mark.parametrize("role", [Role.CSM, Role.ACCOUNT_MANAGER, Role.READ_ONLY])
def test_the_accounts_page_and_the_api_search_the_same_accounts(world: World, role: Role):
    from tandem.accounts.selectors import account_list

    user = world.users[role]
    text = world.inside.account.name[:4]
    page = sorted(a.pk for a in account_list(filters={"q": text}, user=user))
    assert page == sorted(_api_ids(world, role, f"/api/v1/accounts/?q={text}&limit=500"))
    assert page
