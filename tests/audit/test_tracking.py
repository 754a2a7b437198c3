"""The tracking API acts for a write-key source, not a user: its entries are via "api" and name the source."""

from __future__ import annotations

import json

import pytest
from django.contrib.contenttypes.models import ContentType

from tandem.accounts.models import Account, Contact
from tandem.audit.models import AuditEntry
from tandem.ingest.ingestor import drain
from tests.ingest.conftest import basic, ingest_paths, source  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_group_and_identify_calls_record_their_source(client, source) -> None:  # noqa: F811
    calls = [
        {"type": "group", "groupId": "acme", "userId": "u1", "traits": {"name": "Acme"}, "messageId": "g1"},
        {"type": "identify", "userId": "u1", "traits": {"email": "ada@acme.example"}, "messageId": "i1"},
    ]
    for call in calls:
        response = client.post(
            f"/v1/{call['type']}",
            json.dumps(call),
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(source.write_key),
        )
        assert response.status_code == 200, response.content

    drain()

    account, contact = Account.objects.get(external_id="acme"), Contact.objects.get(external_id="u1")
    rows = AuditEntry.objects.filter(
        content_type__in=[ContentType.objects.get_for_model(m) for m in (Account, Contact)]
    ).order_by("pk")
    assert [(e.content_type.model, e.object_id, e.action, e.via, e.actor, e.additional_data) for e in rows] == [
        ("account", account.pk, AuditEntry.Action.CREATE, "api", None, {"source_id": source.pk}),
        ("contact", contact.pk, AuditEntry.Action.CREATE, "api", None, {"source_id": source.pk}),
    ]
    assert (rows[1].changes["external_id"], rows[1].changes["email"]) == ([None, "u1"], [None, "ada@acme.example"])
    assert {e.account_id for e in rows} == {account.pk}
