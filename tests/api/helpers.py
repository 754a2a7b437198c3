"""Helpers for API tests: clients authenticated with a personal token, and problem assertions.

Import the fixtures by their function names (``api_fixture``, ``readonly_api_fixture``) and use
them as ``api`` and ``readonly_api``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tandem.users.models import User
from tandem.users.roles import Role
from tandem.users.services import api_token_create, user_create
from tests.factories import as_fixture

PROBLEM_TYPE = "application/problem+json"


class ApiClient:
    """A Django test client speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, user: User, secret: str) -> None:
        self.user = user
        self.secret = secret
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(f"/api/v1{path}", params or {})

    def post(self, path: str, body: Any):
        return self.client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")

    def patch(self, path: str, body: Any):
        return self.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(f"/api/v1{path}")


def api_client_for(role: Role, username: str) -> ApiClient:
    with as_fixture():
        user = user_create(acting_user=None, username=username, password=None, roles=[role])
        _token, secret = api_token_create(acting_user=None, user=user, name="tests")
    return ApiClient(user, secret)


@pytest.fixture(name="api")
def api_fixture(db) -> ApiClient:
    """A CS manager: may view, add, change and delete customer data."""
    return api_client_for(Role.CS_MANAGER, "manager")


@pytest.fixture(name="readonly_api")
def readonly_api_fixture(db) -> ApiClient:
    return api_client_for(Role.READ_ONLY, "viewer")


def assert_problem(response, status: int, fields: list[str] | None = None) -> dict:
    """The response is problem details with this status, naming exactly these fields."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_TYPE
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    assert body["type"].startswith("urn:tandem:problem:")
    if fields is not None:
        assert [e["field"] for e in body["errors"]] == fields, body["errors"]
        assert all(e["message"] for e in body["errors"])
    return body
