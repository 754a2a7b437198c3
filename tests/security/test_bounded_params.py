"""No query parameter produces a 500: every API operation and every page, fed bad values.

The API operations come from the live OpenAPI schema, so a new endpoint is walked without being
listed here; the pages come from the URL configuration, and their parameters from the GET forms
they render plus the names list pages commonly read.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tandem.api.main import api
from tandem.opportunities.models import OpportunityKind
from tandem.opportunities.services import opportunity_create, renewals_open_due
from tandem.users.services import api_token_create, user_create
from tests.opportunities.test_services import am, contract  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),
]

BAD_NUMBERS = ["-5", "0", "99999999999999999999", "-99999999999999999999", "abc", "1e400", "NaN", "1.5", ""]
BAD_STRINGS = ["bogus", "x" * 3000, "%00", "-1"]
BAD_PAGE_VALUES = ["-5", "99999999999999999999", "abc"]  # and all of BAD_* with every parameter at once
# Read by list pages though not always in their forms.
COMMON_PAGE_PARAMS = ["page", "per_page", "offset", "limit", "owner", "owner_id", "sort", "q", "horizon"]
SKIPPED_PAGES = {"logout", "set_language"}  # not pages: a POST-only action and the language switch


@pytest.fixture
def world(contract):  # noqa: F811
    """An admin with an API token and a little of everything, so that list queries really run."""
    account, _term, _seat = contract
    admin = user_create(acting_user=None, username="root", password=None, roles=["admin"])
    admin.is_staff = admin.is_superuser = True
    admin.save()
    renewals_open_due(acting_user=None, today=dt.date(2025, 10, 1))
    opportunity_create(
        acting_user=None,
        account=account,
        kind=OpportunityKind.UPSELL,
        amount=Decimal("1000"),
        close_date=dt.date(2026, 3, 1),
        name="More seats",
    )
    _token, secret = api_token_create(acting_user=None, user=admin, name="walker")
    return {"admin": admin, "token": secret, "account": account}


# --- API -----------------------------------------------------------------------------------------


def _example(schema: dict[str, Any]) -> str:
    """A valid value for a required parameter, so that the bad one is the only problem."""
    schema = schema.get("anyOf", [schema])[0]
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "date":
        return "2025-01-01"
    if schema.get("type") in {"integer", "number"}:
        return "1"
    return "x"


def _get_operations() -> list[tuple[str, list[dict[str, Any]]]]:
    schema = api.get_openapi_schema()
    operations = []
    for path, methods in schema["paths"].items():
        if "get" in methods:
            operations.append((path, methods["get"].get("parameters", [])))
    return operations


def _kind(param: dict[str, Any]) -> str:
    schema = param["schema"]
    types = {s.get("type") for s in schema.get("anyOf", [schema])}
    return "number" if types & {"integer", "number"} else "string"


@pytest.mark.parametrize(("path", "params"), _get_operations(), ids=[p for p, _ in _get_operations()])
def test_no_bad_parameter_value_is_a_server_error_in_the_api(client, world, path: str, params: list) -> None:
    if not params:
        pytest.skip("no parameters")
    headers = {"authorization": f"Bearer {world['token']}"}
    defaults = {p["name"]: _example(p["schema"]) for p in params}
    for param in params:
        values = BAD_NUMBERS if _kind(param) == "number" else BAD_STRINGS
        for value in values:
            query = {**defaults, param["name"]: value}
            url = path
            for name in re.findall(r"{(\w+)}", path):
                url = url.replace("{" + name + "}", query.pop(name))
            response = client.get(
                "/api/v1" + url, {k: v for k, v in query.items() if _in(params, k, "query")}, headers=headers
            )
            assert response.status_code < 500, (path, param["name"], value, response.content[:300])
            if _kind(param) == "number" and value not in {"", "1.5"} and response.status_code == 422:
                problem = response.json()
                assert response["Content-Type"] == "application/problem+json"
                assert param["name"] in [e["field"] for e in problem["errors"]], (path, value, problem)


def _in(params: list[dict[str, Any]], name: str, where: str) -> bool:
    return any(p["name"] == name and p["in"] == where for p in params)


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/opportunities/", "offset"),
        ("/api/v1/opportunities/", "owner_id"),
        ("/api/v1/opportunities/", "limit"),
        ("/api/v1/health/current", "offset"),
        ("/api/v1/health/current", "limit"),
        ("/api/v1/accounts/", "offset"),
    ],
)
@pytest.mark.parametrize("value", ["-5", "99999999999999999999", "501", "0"])
def test_the_known_offenders_answer_a_422_naming_the_parameter(client, world, path, param, value) -> None:
    if param == "offset" and value in {"501", "0"}:
        pytest.skip("a valid offset")
    if param == "owner_id" and value == "501":
        pytest.skip("a valid id")
    response = client.get(path, {param: value}, headers={"authorization": f"Bearer {world['token']}"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [param]


def test_the_opportunity_list_honours_limit(client, world) -> None:
    response = client.get("/api/v1/opportunities/", {"limit": 1}, headers={"authorization": f"Bearer {world['token']}"})
    body = response.json()
    assert (body["count"], len(body["items"])) == (2, 1)


# --- pages ---------------------------------------------------------------------------------------


def _pages() -> list[str]:
    """Every GET page of the web UI whose URL needs no argument (the API and the admin aside)."""
    found = []

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route.startswith(("admin/", "api/")):
                    continue
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and "<" not in route and pattern.name not in SKIPPED_PAGES:
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _get_form_fields(html: str) -> set[str]:
    names = set()
    for form in re.findall(r"<form\b(?:(?!method=\"post\")[^>])*>(.*?)</form>", html, re.DOTALL):
        names |= set(re.findall(r'\sname="([^"]+)"', form))
    return names - {"csrfmiddlewaretoken", "next", "language"}


def test_the_page_walk_covers_the_list_pages() -> None:
    pages = _pages()
    for page in (
        "/accounts/",
        "/opportunities/renewals/",
        "/opportunities/pipeline/",
        "/health/",
        "/playbooks/my-day/",
    ):
        assert page in pages


@pytest.mark.parametrize("page", _pages())
def test_no_bad_parameter_value_is_a_server_error_on_a_page(client, world, page: str) -> None:
    client.force_login(world["admin"])
    first = client.get(page)
    if first.status_code == 405:
        pytest.skip("POST only")
    assert first.status_code < 500
    params = set(COMMON_PAGE_PARAMS)
    if first.get("Content-Type", "").startswith("text/html"):
        params |= _get_form_fields(first.content.decode())
    for value in BAD_PAGE_VALUES:
        for param in sorted(params):  # one at a time: an early error must not hide a later one
            response = client.get(page, {param: value})
            assert response.status_code < 500, (page, param, value)
    for value in [*BAD_NUMBERS, *BAD_STRINGS]:
        response = client.get(page, dict.fromkeys(params, value))
        assert response.status_code < 500, (page, "all", value)


@pytest.mark.parametrize(
    ("page", "params", "message"),
    [
        ("/accounts/", {"page": "99999999999999999999"}, "Page: Ensure this value is less than or equal to 1000000."),
        ("/accounts/", {"csm_owner": "99999999999999999999"}, "CSM: Select a valid choice."),
        (
            "/opportunities/renewals/",
            {"owner": "99999999999999999999"},
            "Account manager: Ensure this value is less than or equal to 9223372036854775807.",
        ),
        (
            "/opportunities/renewals/",
            {"horizon": "-5"},
            "Closing within (days): Ensure this value is greater than or equal to 1.",
        ),
        ("/opportunities/pipeline/", {"owner": "abc"}, "Account manager: Enter a whole number."),
    ],
)
def test_a_page_shows_which_filter_it_ignored(client, world, page, params, message) -> None:
    client.force_login(world["admin"])
    response = client.get(page, params)
    assert response.status_code == 200
    errors = re.search(r'data-testid="filter-errors">(.*?)</div>', response.content.decode(), re.DOTALL)
    assert errors is not None and message in errors.group(1) and "This filter is ignored." in errors.group(1)
