"""Every URL and every API operation, for every role, on an object inside and outside the reader's book.

The table below decides each one's access. A URL pattern or API operation missing from it fails
``test_every_url_and_operation_has_a_decided_access``, so nobody can add one without deciding who
may use it. Each request runs in a savepoint that is rolled back, so one role's write does not
change what the next role finds.

In this test CSMs and account managers see and change only their own book (the restrictive rule
an admin may choose), so "outside" objects are invisible to them; admins and CS managers see all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tandem.access.masking import CONTRACT_VALUE_KEYS
from tandem.users.roles import Role
from tests.access.world import BOOK_ROLES, ROLES, TODAY, Objects, World
from tests.factories import ProductFactory

MANAGERS = (Role.ADMIN, Role.CS_MANAGER)


class Cap(Enum):
    """What a URL needs, in the terms of docs/security.md's capability table."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed in"  # any signed-in user; no customer object involved
    LIST = "list"  # a list of customer data: everyone with a role, filtered to what they see
    VIEW = "view"  # one customer object
    CHANGE = "change"  # change one customer object (or create one on an account)
    COMMERCIAL = "commercial"  # change an opportunity, renewal or contract
    DELETE = "delete"  # delete a customer object
    COMPANY = "company"  # company-wide revenue and forecasts
    CONFIG_VIEW = "configuration, read"
    CONFIG_CHANGE = "configuration, change"
    ADMIN = "admin"
    PERSONAL = "personal"  # the user's own token


OK, FORBIDDEN, HIDDEN, REFUSED = "ok", "403", "404", "403 or 404"


def expected(cap: Cap, role: Role, inside: bool) -> str:
    book = role in BOOK_ROLES
    if cap in (Cap.PUBLIC, Cap.SIGNED_IN, Cap.LIST, Cap.CONFIG_VIEW):
        return OK
    if cap == Cap.PERSONAL:
        return OK if inside else HIDDEN
    if cap == Cap.ADMIN:
        return OK if role == Role.ADMIN else FORBIDDEN
    if cap in (Cap.COMPANY, Cap.CONFIG_CHANGE):
        return OK if role in MANAGERS else FORBIDDEN
    if cap == Cap.DELETE:  # only managers delete: refused before any object is looked up
        return OK if role in MANAGERS else FORBIDDEN
    if book and not inside:
        return HIDDEN
    if cap == Cap.VIEW:
        return OK
    if role == Role.READ_ONLY:
        return FORBIDDEN
    if cap == Cap.CHANGE:
        return OK
    if cap == Cap.COMMERCIAL:
        return FORBIDDEN if role == Role.CSM else OK
    raise AssertionError(cap)


def expected_create(cap: Cap, role: Role, inside: bool) -> str:
    """Creating on an account: outside the book the account is not found or the creation refused."""
    if role in BOOK_ROLES and not inside:
        return REFUSED
    return expected(cap, role, True)


# --- what each page needs ---------------------------------------------------------------------

Build = Callable[[World, Role, bool], tuple[str, dict[str, Any]]]  # (path, POST data)


@dataclass(frozen=True)
class Page:
    method: str
    cap: Cap
    build: Build
    create: bool = False  # inside/outside is the account the new object goes on


def _objs(w: World, inside: bool) -> Objects:
    return w.inside if inside else w.outside


def _on(attr: str, template: str, data: dict[str, Any] | None = None) -> Build:
    def build(w: World, role: Role, inside: bool) -> tuple[str, dict[str, Any]]:
        obj = getattr(_objs(w, inside), attr)
        return template.format(pk=obj.pk), dict(data or {})

    return build


def _fixed(path: str, data: dict[str, Any] | None = None) -> Build:
    return lambda w, role, inside: (path, dict(data or {}))


def _with(build: Callable[[World, Role, bool], tuple[str, dict[str, Any]]]) -> Build:
    return build


def _history_path(obj: Any) -> str:
    return f"/audit/history/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/"


PAGES: dict[str, list[Page]] = {
    "login": [Page("GET", Cap.PUBLIC, _fixed("/login/"))],
    "logout": [Page("POST", Cap.SIGNED_IN, _fixed("/logout/"))],
    "set_language": [Page("POST", Cap.PUBLIC, _fixed("/i18n/setlang/", {"language": "en", "next": "/"}))],
    "web:home": [Page("GET", Cap.SIGNED_IN, _fixed("/"))],
    "accounts:list": [Page("GET", Cap.LIST, _fixed("/accounts/", {"q": "Inside"}))],
    "accounts:detail": [Page("GET", Cap.VIEW, _on("account", "/accounts/{pk}/"))],
    "accounts:usage_chart": [Page("GET", Cap.VIEW, _on("account", "/accounts/{pk}/usage-chart/"))],
    "health:portfolio": [Page("GET", Cap.LIST, _fixed("/health/"))],
    "health:account": [Page("GET", Cap.VIEW, _on("account", "/health/account/{pk}/"))],
    "health:metrics": [Page("GET", Cap.CONFIG_VIEW, _fixed("/health/metrics/"))],
    "health:metrics_suggest": [Page("POST", Cap.CONFIG_CHANGE, _fixed("/health/metrics/suggest/"))],
    "health:scorecard": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/", {}))),
    ],
    "health:scorecard_preview": [
        Page("POST", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/preview/", {})))
    ],
    "health:backtest": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/health/scorecards/{w.scorecard.pk}/backtest/", {})))
    ],
    "opportunities:renewals": [Page("GET", Cap.LIST, _fixed("/opportunities/renewals/"))],
    "opportunities:renewals_open": [Page("POST", Cap.CONFIG_CHANGE, _fixed("/opportunities/renewals/open-due/"))],
    "opportunities:pipeline": [Page("GET", Cap.LIST, _fixed("/opportunities/pipeline/"))],
    "opportunities:create": [
        Page(
            "POST",
            Cap.COMMERCIAL,
            _with(
                lambda w, r, i: (
                    "/opportunities/new/",
                    {
                        "account": _objs(w, i).account.pk,
                        "kind": "upsell",
                        "amount": "1000",
                        "close_date": (TODAY + dt.timedelta(days=30)).isoformat(),
                        "name": "More seats",
                    },
                )
            ),
            create=True,
        )
    ],
    "opportunities:forecast": [Page("GET", Cap.COMPANY, _fixed("/opportunities/forecast/"))],
    "opportunities:quota_save": [
        Page(
            "POST",
            Cap.CONFIG_CHANGE,
            _with(
                lambda w, r, i: (
                    "/opportunities/forecast/quota/",
                    {"owner": w.users[Role.ACCOUNT_MANAGER].pk, "period_start": "2026-10-01", "amount": "50000"},
                )
            ),
        )
    ],
    "opportunities:account_section": [Page("GET", Cap.VIEW, _on("account", "/opportunities/account/{pk}/"))],
    "opportunities:detail": [Page("GET", Cap.VIEW, _on("expansion", "/opportunities/{pk}/"))],
    "opportunities:renewal_action": [
        Page(
            "POST",
            Cap.COMMERCIAL,
            _on("renewal", "/opportunities/{pk}/renewal/", {"action": "forecast", "forecast_category": "commit"}),
        )
    ],
    "opportunities:move_stage": [
        Page("POST", Cap.COMMERCIAL, _on("expansion", "/opportunities/{pk}/stage/", {"stage": "propose"}))
    ],
    "revenue:summary": [Page("GET", Cap.COMPANY, _fixed("/revenue/"))],
    "revenue:retention": [Page("GET", Cap.COMPANY, _fixed("/revenue/retention/"))],
    "reports:account": [Page("GET", Cap.VIEW, _on("account", "/reports/accounts/{pk}/"))],
    "users:api_tokens": [
        Page("GET", Cap.SIGNED_IN, _fixed("/settings/api-tokens/")),
        Page("POST", Cap.SIGNED_IN, _fixed("/settings/api-tokens/", {"name": "script"})),
    ],
    "users:api_token_revoke": [
        Page(
            "POST",
            Cap.PERSONAL,
            _with(
                lambda w, r, i: (
                    f"/settings/api-tokens/{(w.token_of[w.users[r].pk] if i else w.other_token).pk}/revoke/",
                    {},
                )
            ),
        )
    ],
    "playbooks:my_day": [Page("GET", Cap.SIGNED_IN, _fixed("/playbooks/my-day/"))],
    "playbooks:team": [Page("GET", Cap.CONFIG_CHANGE, _fixed("/playbooks/team/"))],
    "playbooks:pool": [Page("GET", Cap.LIST, _with(lambda w, r, i: (f"/playbooks/pools/{w.pool.pk}/", {})))],
    "playbooks:cta": [Page("GET", Cap.VIEW, _on("cta", "/playbooks/ctas/{pk}/"))],
    "playbooks:cta_close": [
        Page("POST", Cap.CHANGE, _on("cta", "/playbooks/ctas/{pk}/close/", {"outcome": "success", "reason": "Saved"}))
    ],
    "playbooks:cta_opportunity": [
        Page(
            "POST",
            Cap.CHANGE,
            _on(
                "cta",
                "/playbooks/ctas/{pk}/opportunity/",
                {"amount": "1000", "close_date": (TODAY + dt.timedelta(days=60)).isoformat()},
            ),
        )
    ],
    "playbooks:cta_snooze": [
        Page(
            "POST",
            Cap.CHANGE,
            _on("cta", "/playbooks/ctas/{pk}/snooze/", {"until": (TODAY + dt.timedelta(days=3)).isoformat()}),
        )
    ],
    "playbooks:cta_reassign": [
        Page(
            "POST",
            Cap.CHANGE,
            _with(lambda w, r, i: (f"/playbooks/ctas/{_objs(w, i).cta.pk}/reassign/", {"owner": w.users[Role.CSM].pk})),
        )
    ],
    "playbooks:task_complete": [Page("POST", Cap.CHANGE, _on("task", "/playbooks/tasks/{pk}/complete/"))],
    "playbooks:task_send": [Page("POST", Cap.CHANGE, _on("task", "/playbooks/tasks/{pk}/send/"))],
    "playbooks:rules": [Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/rules/"))],
    "playbooks:rule_new": [
        Page("GET", Cap.CONFIG_VIEW, _fixed("/playbooks/rules/new/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/playbooks/rules/new/", {"name": ""})),
    ],
    "playbooks:rule_edit": [
        Page("GET", Cap.CONFIG_VIEW, _with(lambda w, r, i: (f"/playbooks/rules/{w.rule.pk}/", {}))),
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/playbooks/rules/{w.rule.pk}/", {"name": ""}))),
    ],
    "playbooks:rule_preview": [
        Page("POST", Cap.CONFIG_VIEW, _fixed("/playbooks/rules/preview/", {"trigger": "health_band"}))
    ],
    "playbooks:account_ctas": [Page("GET", Cap.VIEW, _on("account", "/playbooks/accounts/{pk}/ctas/"))],
    "notifications:list": [Page("GET", Cap.SIGNED_IN, _fixed("/notifications/"))],
    "notifications:read": [Page("POST", Cap.SIGNED_IN, _fixed("/notifications/read/"))],
    "notifications:unread": [Page("GET", Cap.SIGNED_IN, _fixed("/notifications/unread/"))],
    "notifications:preferences": [Page("POST", Cap.SIGNED_IN, _fixed("/notifications/preferences/", {}))],
    "success:account_milestones": [Page("GET", Cap.VIEW, _on("account", "/success/accounts/{pk}/milestones/"))],
    "success:complete": [Page("POST", Cap.CHANGE, _on("milestone", "/success/milestones/{pk}/complete/"))],
    "ingest:sources": [
        Page("GET", Cap.SIGNED_IN, _fixed("/sources/")),
        Page("POST", Cap.CONFIG_CHANGE, _fixed("/sources/", {"name": "Billing"})),
    ],
    "ingest:source_rotate": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/sources/{w.source.pk}/rotate/", {})))
    ],
    "ingest:source_revoke": [
        Page("POST", Cap.CONFIG_CHANGE, _with(lambda w, r, i: (f"/sources/{w.source.pk}/revoke/", {})))
    ],
    "ingest:events": [Page("GET", Cap.SIGNED_IN, _fixed("/sources/events/"))],
    "access:rules": [
        Page("GET", Cap.ADMIN, _fixed("/settings/access/")),
        Page(
            "POST",
            Cap.ADMIN,
            _fixed(
                "/settings/access/",
                {"role": "read_only", "read_only-view_accounts": "all", "read_only-change_accounts": "none"},
            ),
        ),
    ],
    "access:team_new": [Page("POST", Cap.ADMIN, _fixed("/settings/access/teams/new/", {"name": "APAC"}))],
    "access:team_edit": [Page("GET", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/access/teams/{w.team.pk}/", {})))],
    "access:team_delete": [
        Page("POST", Cap.ADMIN, _with(lambda w, r, i: (f"/settings/access/teams/{w.team.pk}/delete/", {})))
    ],
    "audit:log": [Page("GET", Cap.ADMIN, _fixed("/audit/", {"q": "Inside"}))],
    "audit:history": [
        Page(
            "GET",
            Cap.VIEW,
            _with(lambda w, r, i: (_history_path(_objs(w, i).account), {})),
        )
    ],
    # Served to API clients and to the docs page; they reveal no customer data.
    "api:openapi-json": [Page("GET", Cap.SIGNED_IN, _fixed("/api/v1/openapi.json"))],
    "api:openapi-view": [Page("GET", Cap.SIGNED_IN, _fixed("/api/v1/docs"))],
}

# Not decided here, and why.
EXEMPT = {
    "ingest:track": "authenticated by a source's write key, not by a user (tests/ingest/test_tracking_api.py)",
    "api:api-root": "django-ninja's root: a 404 problem for everyone, it serves nothing",
}


# --- what each API operation needs ------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    cap: Cap
    build: Build
    create: bool = False


def _api_on(attr: str, template: str, body: dict[str, Any] | None = None) -> Build:
    return _on(attr, template, body)


def _api_create(body: Callable[[World, bool], dict[str, Any]]) -> Build:
    return lambda w, role, inside: ("", body(w, inside))


OPERATIONS: dict[str, Operation] = {
    "list_accounts": Operation(Cap.LIST, _fixed("/accounts/")),
    "create_account": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {
                "name": "New",
                "csm_owner": (w.users[Role.CSM] if i else w.other).pk,
                "am_owner": w.users[Role.ACCOUNT_MANAGER].pk if i else None,
            }
        ),
        create=True,
    ),
    "get_account": Operation(Cap.VIEW, _api_on("account", "/accounts/{pk}")),
    "update_account": Operation(Cap.CHANGE, _api_on("account", "/accounts/{pk}", {"industry": "Software"})),
    "delete_account": Operation(Cap.DELETE, _api_on("account", "/accounts/{pk}")),
    "list_contacts": Operation(Cap.LIST, _fixed("/contacts/")),
    "create_contact": Operation(
        Cap.CHANGE,
        _api_create(lambda w, i: {"account": _objs(w, i).account.pk, "first_name": "Kim", "email": "kim@new.example"}),
        create=True,
    ),
    "get_contact": Operation(Cap.VIEW, _api_on("contact", "/contacts/{pk}")),
    "update_contact": Operation(Cap.CHANGE, _api_on("contact", "/contacts/{pk}", {"title": "CTO"})),
    "delete_contact": Operation(Cap.DELETE, _api_on("contact", "/contacts/{pk}")),
    "list_subscriptions": Operation(Cap.LIST, _fixed("/subscriptions/")),
    "create_subscription": Operation(
        Cap.COMMERCIAL,
        _api_create(
            lambda w, i: {
                "account": _objs(w, i).account.pk,
                "start_date": TODAY.isoformat(),
                "end_date": (TODAY + dt.timedelta(days=364)).isoformat(),
                "items": [{"product": ProductFactory(code="seat").pk, "unit_price": "10.00", "quantity": "2"}],
            }
        ),
        create=True,
    ),
    "get_subscription": Operation(Cap.VIEW, _api_on("subscription", "/subscriptions/{pk}")),
    "update_subscription": Operation(
        Cap.COMMERCIAL, _api_on("subscription", "/subscriptions/{pk}", {"auto_renew": False})
    ),
    "delete_subscription": Operation(Cap.DELETE, _api_on("subscription", "/subscriptions/{pk}")),
    "list_tickets": Operation(Cap.LIST, _fixed("/tickets/")),
    "create_ticket": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {
                "account": _objs(w, i).account.pk,
                "subject": "Login fails",
                "opened_at": timezone.now().isoformat(),
            }
        ),
        create=True,
    ),
    "get_ticket": Operation(Cap.VIEW, _api_on("ticket", "/tickets/{pk}")),
    "update_ticket": Operation(Cap.CHANGE, _api_on("ticket", "/tickets/{pk}", {"priority": "high"})),
    "delete_ticket": Operation(Cap.DELETE, _api_on("ticket", "/tickets/{pk}")),
    "list_interactions": Operation(Cap.LIST, _fixed("/interactions/")),
    "create_interaction": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {"account": _objs(w, i).account.pk, "kind": "call", "occurred_at": timezone.now().isoformat()}
        ),
        create=True,
    ),
    "get_interaction": Operation(Cap.VIEW, _api_on("interaction", "/interactions/{pk}")),
    "update_interaction": Operation(Cap.CHANGE, _api_on("interaction", "/interactions/{pk}", {"subject": "QBR"})),
    "delete_interaction": Operation(Cap.DELETE, _api_on("interaction", "/interactions/{pk}")),
    "list_nps_responses": Operation(Cap.LIST, _fixed("/nps-responses/")),
    "create_nps_response": Operation(
        Cap.CHANGE,
        _api_create(
            lambda w, i: {"account": _objs(w, i).account.pk, "score": 9, "responded_at": timezone.now().isoformat()}
        ),
        create=True,
    ),
    "list_triggers": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/triggers")),
    "list_rules": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/rules")),
    "create_rule": Operation(
        Cap.CONFIG_CHANGE,
        _with(
            lambda w, r, i: (
                "/playbooks/rules",
                {"name": "New rule", "trigger": "health_band", "playbook": w.rule.playbook_id},
            )
        ),
    ),
    "preview_rule": Operation(Cap.CONFIG_VIEW, _fixed("/playbooks/rules/preview", {"trigger": "health_band"})),
    "update_rule": Operation(
        Cap.CONFIG_CHANGE,
        _with(
            lambda w, r, i: (
                f"/playbooks/rules/{w.rule.pk}",
                {"name": "Renamed", "trigger": "health_band", "playbook": w.rule.playbook_id},
            )
        ),
    ),
    "list_ctas": Operation(Cap.LIST, _fixed("/playbooks/ctas")),
    "my_day": Operation(Cap.SIGNED_IN, _fixed("/playbooks/my-day")),
    "close_cta": Operation(Cap.CHANGE, _api_on("cta", "/playbooks/ctas/{pk}/close", {"outcome": "success"})),
    "revenue_summary_endpoint": Operation(
        Cap.COMPANY, _fixed("/revenue/summary", {"date_from": "2026-01-01", "date_to": "2026-06-30"})
    ),
    "revenue_cohorts": Operation(Cap.COMPANY, _fixed("/revenue/cohorts")),
    "retention_fit": Operation(Cap.SIGNED_IN, _fixed("/revenue/retention/fit", {"survivors": [100, 80, 70, 65]})),
    "list_opportunities": Operation(Cap.LIST, _fixed("/opportunities/")),
    "create_opportunity": Operation(
        Cap.COMMERCIAL,
        _api_create(
            lambda w, i: {
                "account_id": _objs(w, i).account.pk,
                "kind": "upsell",
                "amount": "1000",
                "close_date": (TODAY + dt.timedelta(days=30)).isoformat(),
            }
        ),
        create=True,
    ),
    "move_opportunity_stage": Operation(
        Cap.COMMERCIAL, _api_on("expansion", "/opportunities/{pk}/stage", {"stage": "propose"})
    ),
    "close_renewal": Operation(Cap.COMMERCIAL, _api_on("renewal", "/opportunities/{pk}/close-renewal", {})),
    "forecast_endpoint": Operation(
        Cap.COMPANY, _fixed("/opportunities/forecast", {"period_start": "2026-10-01", "period_end": "2026-12-31"})
    ),
    "get_account_health": Operation(Cap.VIEW, _api_on("account", "/health/accounts/{pk}")),
    "list_current": Operation(Cap.LIST, _fixed("/health/current")),
    "list_scorecards": Operation(Cap.CONFIG_VIEW, _fixed("/health/scorecards")),
}


# --- enumeration --------------------------------------------------------------------------------


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue  # Django's admin: staff only, checked in test_admin_site_is_for_staff
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver(), "")
    return names


def _api_operations() -> dict[str, tuple[str, str]]:
    from tandem.api.main import api

    schema = api.get_openapi_schema()
    return {
        op["operationId"]: (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }


def test_every_url_and_operation_has_a_decided_access(db):
    undecided_pages = _url_names() - set(PAGES) - set(EXEMPT)
    # ninja names each operation's URL after its view function: those are the API operations below.
    operations = _api_operations()
    undecided_pages -= set(f"api:{name}" for name in operations)
    assert not undecided_pages, f"decide the access of these URLs in tests/access/test_every_url.py: {undecided_pages}"
    assert not set(PAGES) - _url_names() - set(EXEMPT), "PAGES names URLs that no longer exist"
    assert set(operations) == set(OPERATIONS), (
        f"decide the access of these API operations: {set(operations) - set(OPERATIONS)}; "
        f"gone: {set(OPERATIONS) - set(operations)}"
    )


# --- the requests ----------------------------------------------------------------------------------


def _outcome(status: int) -> str:
    if status in (401, 403):
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    assert status < 500, status
    assert status != 405, "wrong method in the table"
    return OK


def _matches(outcome: str, want: str) -> bool:
    return outcome == want or (want == REFUSED and outcome in (FORBIDDEN, HIDDEN))


def _rolled_back(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with transaction.atomic():
        response = call(*args, **kwargs)
        transaction.set_rollback(True)
    return response


def _hidden_values(value: Any, path: str = "") -> list[str]:
    """Contract-value keys that carry a value in a JSON document (for readers who may not see them)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CONTRACT_VALUE_KEYS and item is not None:
                found.append(f"{path}.{key}")
            found += _hidden_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _hidden_values(item, f"{path}.{index}")
    return found


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_access(world: World, name: str):
    for page in PAGES[name]:
        anonymous_path, anonymous_data = page.build(world, Role.ADMIN, True)
        anonymous = _rolled_back(Client().generic, page.method, anonymous_path, **_form(anonymous_data))
        if page.cap == Cap.PUBLIC:
            assert anonymous.status_code < 400, (name, anonymous.status_code)
        elif name.startswith("api:"):
            assert anonymous.status_code in (200, 401, 302), (name, anonymous.status_code)
        else:
            assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/"), (
                name,
                anonymous.status_code,
            )
        for role in ROLES:
            client = Client()
            client.force_login(world.users[role])
            for inside in (True, False):
                path, data = page.build(world, role, inside)
                response = _rolled_back(client.generic, page.method, path, **_form(data))
                want = (expected_create if page.create else expected)(page.cap, role, inside)
                got = _outcome(response.status_code)
                assert _matches(got, want), f"{page.method} {path} as {role.value} ({inside=}): {got}, want {want}"
                if got == FORBIDDEN and page.method == "GET" and not name.startswith("api:"):
                    assert b'class="topbar"' in response.content, f"{path}: a refusal is a page in the app's layout"


def _form(data: dict[str, Any]) -> dict[str, Any]:
    from urllib.parse import urlencode

    return {"data": urlencode(data, doseq=True), "content_type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_api_operation_access(world: World, name: str):
    method, template = _api_operations()[name]
    operation = OPERATIONS[name]
    for role in ROLES:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {world.secrets[world.users[role].pk]}")
        for inside in (True, False):
            path, body = operation.build(world, role, inside)
            path = path or template
            if method == "GET":
                response = _rolled_back(client.get, f"/api/v1{path}", body)
            else:
                response = _rolled_back(
                    client.generic, method, f"/api/v1{path}", json.dumps(body), content_type="application/json"
                )
            want = (expected_create if operation.create else expected)(operation.cap, role, inside)
            got = _outcome(response.status_code)
            assert _matches(got, want), (
                f"{method} {path} as {role.value} ({inside=}): {response.status_code} {response.content[:300]!r}, "
                f"want {want}"
            )
            if got == OK and role in (Role.CSM, Role.READ_ONLY) and response.content:
                leaked = _hidden_values(response.json())
                assert not leaked, f"{method} {path} as {role.value} shows contract values: {leaked}"
    anonymous = Client().generic(method, f"/api/v1{template.replace('{', '').replace('}', '')}")
    assert anonymous.status_code in (401, 404, 422), (name, anonymous.status_code)


def test_admin_site_is_for_staff(world: World):
    for role in ROLES:
        client = Client()
        client.force_login(world.users[role])
        response = client.get("/admin/")
        if world.users[role].is_staff:
            assert response.status_code == 200
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
