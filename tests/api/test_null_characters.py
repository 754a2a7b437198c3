"""A NUL character anywhere in a body or query is a 422 naming the field, not a 500 on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tandem.accounts.models import Account

pytestmark = pytest.mark.django_db


def test_a_null_character_in_the_body_or_the_query_is_refused_on_its_field(admin_user):
    client = Client()
    client.force_login(admin_user)
    body = {"name": "Acme", "industry": "Soft\x00ware"}
    response = client.post("/api/v1/accounts/", json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert "industry" in response.content.decode()
    assert not Account.objects.exists()

    listed = client.get("/api/v1/accounts/", {"q": "a\x00b"})
    assert listed.status_code == 422 and "q" in listed.content.decode()
