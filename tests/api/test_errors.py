"""Problem details for every kind of bad request, authentication, permissions and the schema."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from tandem.accounts.models import Account
from tandem.users.models import ApiToken
from tandem.users.roles import Role
from tandem.users.services import api_token_create, api_token_revoke, user_create
from tests.api.helpers import (  # noqa: F401
    ApiClient,
    api_fixture,
    assert_problem,
    readonly_api_fixture,
)
from tests.factories import AccountFactory, as_fixture

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_naming_the_body(api: ApiClient):
    response = api.client.post("/api/v1/accounts/", '{"name": "Acme",', content_type="application/json")

    body = assert_problem(response, 400, ["body"])
    assert body["type"] == "urn:tandem:problem:malformed-request"
    assert Account.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, ["name"]),
        ({"name": ["Acme"]}, ["name"]),
        ({"name": "Acme", "tier": "platinum"}, ["tier"]),
        ({"name": "Acme", "start_date": "2024-13-01"}, ["start_date"]),
        ({"name": "Acme", "parent": "first"}, ["parent"]),
        ({"name": "Acme", "parent": 2**70}, ["parent"]),
    ],
)
def test_request_validation_errors_are_422_naming_each_field(api: ApiClient, payload: dict, fields: list[str]):
    response = api.post("/accounts/", payload)

    body = assert_problem(response, 422, fields)
    assert body["type"] == "urn:tandem:problem:validation-error"
    assert Account.objects.count() == 0


def test_domain_errors_keep_their_status_and_fields(api: ApiClient):
    body = assert_problem(api.post("/accounts/", {"name": "Acme", "currency": "dollar"}), 400)
    assert {e["field"] for e in body["errors"]} == {"currency"}
    assert body["type"] == "urn:tandem:problem:invalid"
    assert Account.objects.count() == 0


@pytest.mark.parametrize("path", ["/accounts/424242", "/subscriptions/424242", "/tickets/1"])
def test_missing_objects_are_404_problems(api: ApiClient, path: str):
    body = assert_problem(api.get(path), 404, [])
    assert body["type"] == "urn:tandem:problem:not-found"


def test_absurd_ids_in_the_path_are_422_not_500(api: ApiClient):
    assert_problem(api.get(f"/accounts/{2**70}"), 422, ["account_id"])
    assert_problem(api.get("/accounts/0"), 422, ["account_id"])


def test_missing_credentials_are_401_with_a_challenge():
    response = Client().get("/api/v1/accounts/")

    body = assert_problem(response, 401, [])
    assert body["type"] == "urn:tandem:problem:unauthenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="tandem"'


def test_unauthenticated_write_is_401_not_a_csrf_403(db):
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/accounts/", json.dumps({"name": "Acme"}), content_type="application/json"
    )

    assert_problem(response, 401)
    assert Account.objects.count() == 0


def test_valid_token_authenticates_and_stamps_last_use(api: ApiClient):
    AccountFactory(name="Acme")

    response = api.get("/accounts/")

    assert response.status_code == 200
    assert [a["name"] for a in response.json()["items"]] == ["Acme"]
    token = ApiToken.objects.get(user=api.user)
    assert token.last_used_at is not None
    assert (timezone.now() - token.last_used_at).total_seconds() < 60


def test_revoked_and_unknown_tokens_are_401(api: ApiClient):
    with as_fixture():
        api_token_revoke(acting_user=None, token=ApiToken.objects.get(user=api.user))

    revoked = api.get("/accounts/")
    body = assert_problem(revoked, 401, [])
    assert "revoked" in body["detail"]
    assert_problem(Client(HTTP_AUTHORIZATION="Bearer tdm_nope").get("/api/v1/accounts/"), 401)


def test_token_of_a_deactivated_user_is_401(api: ApiClient):
    api.user.is_active = False
    with as_fixture():
        api.user.save()
    assert_problem(api.get("/accounts/"), 401)


def test_user_without_a_role_cannot_even_read(db):
    with as_fixture():
        user = user_create(acting_user=None, username="nobody", password=None)
        _token, secret = api_token_create(acting_user=None, user=user, name="t")

    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/accounts/")

    body = assert_problem(response, 403, [])
    assert "accounts.view_account" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/contacts/", {"account": 1, "first_name": "Ada"}),
        ("post", "/subscriptions/", {"account": 1, "start_date": "2025-01-01"}),
        ("post", "/tickets/", {"account": 1, "subject": "x", "opened_at": "2025-01-01T00:00Z"}),
        ("post", "/interactions/", {"account": 1, "kind": "call", "occurred_at": "2025-01-01"}),
    ],
)
def test_read_only_users_get_403_on_every_write(readonly_api: ApiClient, method: str, path: str, body: dict):
    AccountFactory(id=1)
    response = getattr(readonly_api, method)(path, body)
    assert_problem(response, 403, [])
    assert readonly_api.get(path).status_code == 200


def test_csm_may_change_but_not_delete(db):
    with as_fixture():
        user = user_create(acting_user=None, username="csm", password=None, roles=[Role.CSM])
        _token, secret = api_token_create(acting_user=None, user=user, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    account = AccountFactory(name="Acme", csm_owner=user)  # her own book: the default rule lets her change it

    changed = client.patch(f"/api/v1/accounts/{account.pk}", '{"name": "Acme 2"}', content_type="application/json")
    assert changed.status_code == 200
    assert_problem(client.delete(f"/api/v1/accounts/{account.pk}"), 403)
    assert Account.objects.get().name == "Acme 2"


def test_session_auth_needs_a_csrf_token_for_writes(db):
    with as_fixture():
        user = user_create(acting_user=None, username="browser", password=None, roles=[Role.CS_MANAGER])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get("/api/v1/accounts/").status_code == 200
    refused = client.post("/api/v1/accounts/", json.dumps({"name": "Acme"}), content_type="application/json")
    body = assert_problem(refused, 403, [])
    assert "CSRF" in body["detail"]
    assert Account.objects.count() == 0

    client.get("/api/v1/docs")  # any page rendering a CSRF token sets the cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/accounts/",
        json.dumps({"name": "Acme"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201
    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]


def test_openapi_lists_every_path_with_both_auth_schemes(db):
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    crud = {
        f"/api/v1/{resource}/{suffix}"
        for resource, key in [
            ("accounts", "account_id"),
            ("contacts", "contact_id"),
            ("subscriptions", "subscription_id"),
            ("tickets", "ticket_id"),
            ("interactions", "interaction_id"),
        ]
        for suffix in ("", f"{{{key}}}")
    }
    assert crud <= set(schema["paths"])
    # Every domain with an API contributes its router to the one document.
    assert {path.split("/")[3] for path in schema["paths"]} >= {
        "accounts", "contacts", "subscriptions", "tickets", "interactions",
        "health", "nps-responses", "opportunities", "playbooks", "revenue",
    }  # fmt: skip
    assert set(schema["paths"]["/api/v1/accounts/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/accounts/{account_id}"]) == {"get", "patch", "delete"}
    operations = [op for path in schema["paths"].values() for op in path.values()]
    operation_ids = [op["operationId"] for op in operations]
    assert len(operation_ids) == len(set(operation_ids))
    assert sum(1 for path in crud for _op in schema["paths"][path].values()) == 25
    assert all(op.get("summary") for op in operations)
    assert all(op.get("security") for op in operations), "every endpoint requires authentication"
    assert {s["type"] for s in schema["components"]["securitySchemes"].values()} == {
        "http",
        "apiKey",
    }
    list_params = {p["name"] for p in schema["paths"]["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"limit", "offset", "q", "external_id", "tier", "ordering"} <= list_params


def test_docs_page_uses_bundled_swagger_not_a_cdn(db):
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    # Every script and stylesheet is served by us: none points at another host.
    external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
    assert external == []
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_unknown_api_path_is_a_problem_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:tandem:problem:not-found"
    assert "/api/v1/no-such-thing/" in response.json()["detail"]


def test_unknown_page_is_an_html_404_in_the_shell(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"<html" in response.content


def test_schema_errors_come_with_the_unknown_references_of_the_same_request(api: ApiClient):
    body = assert_problem(
        api.post("/accounts/", {"name": "Acme", "tier": "gold", "parent": 99999, "csm_owner": "nobody"}),
        422,
        ["tier", "parent", "csm_owner"],
    )
    assert body["errors"][1]["message"] == "No object with id 99999."
    assert body["errors"][2]["message"] == "No user with the username or email nobody."
    # A reference the schema itself refuses is named once, by the schema.
    assert_problem(api.post("/contacts/", {"account": -1, "roles": ["king"]}), 422, ["account", "roles.0"])
    assert_problem(api.post("/contacts/", {"account": 99999, "roles": ["king"]}), 422, ["roles.0", "account"])
    # Beside errors in its line items (whose products are checked once the schema errors are fixed).
    items = [{"product": 99999, "quantity": "many", "unit_price": "10"}]
    body = api.post(
        "/subscriptions/", {"account": 99999, "currency": "EUR", "start_date": "2026-01-01", "items": items}
    )
    fields = sorted(e["field"] for e in assert_problem(body, 422)["errors"])
    assert fields == ["account", "items.0.quantity"]
    from tandem.accounts.models import Account, Contact

    assert not Account.objects.exists() and not Contact.objects.exists()
