"""Every list page and list endpoint: an exact query count, and one that does not grow with the rows.

Each is requested as a CS manager (who sees everything) and as a CSM restricted to her book, on
the world of tests/access/test_every_url.py, then again after five more accounts with their
contacts, contracts, tickets, CTAs and opportunities exist: the count must not change. The
baseline is exact so that an extra query per request shows up in review.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tandem.audit.context import audit_context
from tandem.users.roles import Role
from tests.access.world import World, _objects

# name -> path; API paths are under /api/v1.
PAGES = {
    "web:home": "/",
    "accounts:list": "/accounts/",
    "health:portfolio": "/health/",
    "health:metrics": "/health/metrics/",
    "opportunities:renewals": "/opportunities/renewals/",
    "opportunities:pipeline": "/opportunities/pipeline/",
    "playbooks:my_day": "/playbooks/my-day/",
    "playbooks:rules": "/playbooks/rules/",
    "notifications:list": "/notifications/",
    "ingest:sources": "/sources/",
    "users:api_tokens": "/settings/api-tokens/",
    "playbooks:pool": "/playbooks/pools/{pool}/",
    "accounts:search": "/accounts/search/?q=Ins",
    "accounts:contacts": "/accounts/contacts/",
    "web:settings": "/settings/",
    "playbooks:playbooks": "/playbooks/playbooks/",
    "playbooks:templates": "/playbooks/templates/",
    "playbooks:pools": "/playbooks/pools/",
    "meetings:mine": "/meetings/",
    "maillog:unassigned": "/mail/unassigned/",
    "accounts:export": "/accounts/export.csv",
    "accounts:contacts_export": "/accounts/contacts/export.csv",
    "opportunities:renewals_export": "/opportunities/renewals/export.csv",
    "opportunities:pipeline_export": "/opportunities/pipeline/export.csv",
    "subscriptions:products": "/subscriptions/products/",
    "success:portfolio": "/success/outcomes/",
}
MANAGER_PAGES = {
    "playbooks:team": "/playbooks/team/",
    "audit:log": "/audit/",
    "access:rules": "/settings/access/",
    "users:list": "/settings/users/",
}
ENDPOINTS = {
    "list_accounts": "/accounts/",
    "list_contacts": "/contacts/",
    "list_subscriptions": "/subscriptions/",
    "list_tickets": "/tickets/",
    "list_interactions": "/interactions/",
    "list_nps_responses": "/nps-responses/",
    "list_rules": "/playbooks/rules",
    "list_ctas": "/playbooks/ctas",
    "my_day": "/playbooks/my-day",
    "list_opportunities": "/opportunities/",
    "list_current": "/health/current",
    "list_scorecards": "/health/scorecards",
    "list_triggers": "/playbooks/triggers",
    "list_users": "/users/",
    "list_playbooks": "/playbooks/playbooks",
    "list_email_templates": "/playbooks/email-templates",
    "list_pools": "/playbooks/pools",
    "list_meetings": "/meetings/",
    "list_logged_emails": "/mail/messages",
    "list_products": "/products/",
}

# Exact queries per request: (as a CS manager, as a restricted CSM), or (as an admin,) for the
# admin's pages.
BASELINE: dict[str, tuple[int, ...]] = {
    "web:home": (12, 12),
    "accounts:list": (10, 10),  # with the total count and the segment filter's choices
    # six aggregates (outcomes and milestones with their months, owners, gaps, shares) and the ROI rows
    "success:portfolio": (13, 13),
    "health:portfolio": (15, 12),  # the CSM sees no company-wide ARR at risk (3 aggregates, 2 user look-ups)
    "health:metrics": (7, 7),
    "opportunities:renewals": (12, 12),  # one page of renewals, the totals and the counts as two aggregates
    # the columns' totals in one grouped query, then a page per stage that has deals (at most 7)
    "opportunities:pipeline": (9, 9),
    "playbooks:my_day": (6, 6),
    "playbooks:rules": (5, 5),
    "playbooks:pool": (5, 5),
    "notifications:list": (4, 4),
    "ingest:sources": (7, 7),
    "users:api_tokens": (3, 3),
    "playbooks:team": (9,),  # + closed CTAs per owner, the outcome totals and counts
    "audit:log": (6,),
    "access:rules": (6,),
    "list_accounts": (7, 7),
    "list_contacts": (8, 8),
    "list_subscriptions": (8, 8),
    "list_tickets": (7, 7),
    "list_interactions": (9, 9),
    "list_nps_responses": (7, 7),
    "list_rules": (7, 7),
    "list_ctas": (7, 7),
    "my_day": (2, 2),
    "list_opportunities": (7, 7),
    "list_current": (6, 6),
    "list_scorecards": (5, 5),  # scorecards, their measures with metrics
    "list_triggers": (1, 1),
    "accounts:search": (7, 7),
    "accounts:contacts": (9, 9),
    "list_users": (6, 6),
    "web:settings": (8, 8),
    "playbooks:playbooks": (5, 5),
    "playbooks:templates": (5, 5),
    "playbooks:pools": (6, 6),
    "users:list": (4,),
    "list_playbooks": (8, 8),
    "list_email_templates": (7, 7),
    "list_pools": (8, 8),
    # The world has no meetings; tests/meetings/test_views.py counts them with meetings on the page.
    "meetings:mine": (5, 5),
    "list_meetings": (5, 5),
    "maillog:unassigned": (6, 6),
    "list_logged_emails": (5, 5),
    # CSV exports: the list's rows streamed in chunks of 2,000 (one query per chunk and prefetch).
    "accounts:export": (10, 10),  # and the custom fields' definitions and the segment filter's choices
    "accounts:contacts_export": (9, 9),  # and the contacts' custom fields
    "opportunities:renewals_export": (11, 11),
    "opportunities:pipeline_export": (7, 7),
    "subscriptions:products": (5, 5),
    "list_products": (7, 7),
}


def _count(client: Client, path: str) -> int:
    client.get(path)  # warm caches (country codes, content types, the token's last-used stamp)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if response.streaming:  # a CSV export reads its rows while it is sent
            b"".join(response.streaming_content)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


def _more_rows(world: World) -> None:
    with audit_context(via="fixture"):
        for n in range(5):
            _objects(world.users[Role.CSM], world.users[Role.ACCOUNT_MANAGER], f"Inside {n}", world.rule.playbook)
            _objects(world.other, None, f"Outside {n}", world.rule.playbook)
            _logged_email(world.users[Role.CSM], n, account=None)
            _logged_email(world.users[Role.CSM], n + 10, account=world.inside.account)


def _logged_email(user, n: int, *, account) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from tandem.maillog.models import LoggedEmail

    LoggedEmail.objects.create(
        user=user,
        account=account,
        direction="in",
        dedupe_key=f"mid:{n}@more",
        from_address="x@y.example",
        sent_at=timezone.now(),
        received_via="smtp",
    )


def _clients(world: World, api: bool, roles: tuple[Role, ...]) -> list[Client]:
    clients = []
    for role in roles:
        if api:
            clients.append(Client(HTTP_AUTHORIZATION=f"Bearer {world.secrets[world.users[role].pk]}"))
        else:
            client = Client()
            client.force_login(world.users[role])
            clients.append(client)
    return clients


def _check(
    world: World, name: str, path: str, api: bool, roles: tuple[Role, ...] = (Role.CS_MANAGER, Role.CSM)
) -> None:
    clients = _clients(world, api, roles)
    before = [_count(client, path) for client in clients]
    _more_rows(world)
    after = [_count(client, path) for client in clients]
    assert before == after, f"{name}: {before} queries with 1 account per book, {after} with 6"
    if name in BASELINE:
        assert tuple(before) == BASELINE[name], f"{name}: {before} queries, baseline {BASELINE[name]}"
    else:  # pragma: no cover - prints the line to add when a list is new
        pytest.fail(f'add to BASELINE: "{name}": {tuple(before)},')


@pytest.mark.parametrize("name", sorted(PAGES))
def test_list_page_query_count(world: World, name: str):
    if name == "maillog:unassigned":  # an empty first page runs no row query: start with one row
        with audit_context(via="fixture"):
            _logged_email(world.users[Role.CSM], 99, account=None)
    _check(world, name, PAGES[name].format(pool=world.pool.pk), api=False)


@pytest.mark.parametrize("name", sorted(MANAGER_PAGES))
def test_manager_page_query_count(world: World, name: str):
    _check(world, name, MANAGER_PAGES[name], api=False, roles=(Role.ADMIN,))


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_list_endpoint_query_count(world: World, name: str):
    _check(world, name, f"/api/v1{ENDPOINTS[name]}", api=True)


def test_every_list_is_counted():
    from tests.access.test_every_url import OPERATIONS, Cap
    from tests.access.test_every_url import PAGES as ALL_PAGES

    listed = {name for name, pages in ALL_PAGES.items() if any(p.cap == Cap.LIST for p in pages)}
    listed |= {name for name, op in OPERATIONS.items() if op.cap == Cap.LIST}
    counted = set(PAGES) | set(MANAGER_PAGES) | set(ENDPOINTS)
    assert listed <= counted, f"add a query-count baseline for {listed - counted}"
