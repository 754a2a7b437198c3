"""The Sources and Event catalogue pages."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.ingest.models import Source
from tandem.usage.eventstore import Event
from tandem.users.services import user_create
from tests.factories import as_fixture

pytestmark = pytest.mark.django_db


def login(client, role: str):
    with as_fixture():
        client.force_login(user_create(acting_user=None, username=role, password="correct-horse-battery", roles=[role]))


def test_cs_manager_creates_rotates_and_revokes_a_source(client):
    login(client, "cs_manager")
    response = client.post("/sources/", {"name": "Web app"})
    source = Source.objects.get(name="Web app")
    key = response.context["new_key"]
    assert key.startswith("tdmw_") and key in response.content.decode()
    rotated = client.post(f"/sources/{source.pk}/rotate/").context["new_key"]
    assert rotated != key
    client.post(f"/sources/{source.pk}/revoke/")
    source.refresh_from_db()
    assert source.revoked_at is not None
    page = client.get("/sources/").content.decode()
    assert "Revoked" in page and 'href="/settings/"' in page  # reached from Settings (its breadcrumb)


def test_csm_sees_sources_but_cannot_manage_keys(client):
    from tandem.ingest.services import source_create

    with as_fixture():
        source, _key = source_create(acting_user=None, name="Backend")
    login(client, "csm")
    page = client.get("/sources/")
    assert page.status_code == 200 and "Backend" in page.content.decode()
    assert "Create a source" not in page.content.decode()
    assert client.post("/sources/", {"name": "X"}).status_code == 403
    assert client.post(f"/sources/{source.pk}/revoke/").status_code == 403
    assert Source.objects.filter(revoked_at__isnull=True).count() == 1


def test_event_catalogue_lists_events_and_property_keys(client, event_store):
    event_store.append(
        [Event(account_id=1, event="Login", ts=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), properties='{"sso": true}')]
    )
    login(client, "read_only")
    page = client.get("/sources/events/").content.decode()
    assert "Login" in page and "sso" in page
