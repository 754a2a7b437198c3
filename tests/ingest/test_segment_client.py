"""The official Segment Python library, unchanged, against a live Tandem over real HTTP."""

from __future__ import annotations

import pytest
from segment.analytics import Client

from tandem.accounts.models import Account, Contact
from tandem.ingest.ingestor import drain
from tandem.ingest.services import source_create
from tandem.usage.eventstore import EventStore
from tests.factories import as_fixture


@pytest.mark.django_db(transaction=True)
def test_segment_client_identify_group_track_show_on_the_account_page(live_server, client, event_store: EventStore):
    from tandem.users.services import user_create

    with as_fixture():
        _source, key = source_create(acting_user=None, name="Segment SDK")
    errors: list[Exception] = []
    analytics = Client(key, host=live_server.url, sync_mode=True, on_error=lambda e, _batch: errors.append(e))

    analytics.group("user-7", "acct-42", {"name": "Globex", "website": "globex.example", "industry": "Energy"})
    analytics.identify("user-7", {"email": "hank@globex.example", "firstName": "Hank", "lastName": "Scorpio"})
    for _ in range(3):
        analytics.track("user-7", "Dashboard Viewed", {"widgets": 4})
    analytics.page("user-7", "Docs", "Getting started")
    analytics.flush()
    assert errors == []

    result = drain()
    assert result.stored == 4

    account = Account.objects.get(external_id="acct-42")
    assert (account.name, account.domain, account.industry) == ("Globex", "globex.example", "Energy")
    contact = Contact.objects.get(external_id="user-7")
    assert (contact.account_id, contact.email, contact.full_name) == (account.pk, "hank@globex.example", "Hank Scorpio")
    assert event_store.count(account_id=account.pk) == 4

    with as_fixture():
        client.force_login(
            user_create(acting_user=None, username="csm", password="correct-horse-battery", roles=["csm"])
        )
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Globex" in page and "Hank Scorpio" in page
    chart = client.get(f"/accounts/{account.pk}/usage-chart/", HTTP_HX_REQUEST="true").content.decode()
    assert "Dashboard Viewed" in chart
    assert "Page Viewed" in chart


@pytest.mark.django_db(transaction=True)
def test_segment_client_with_a_revoked_key_gets_401(live_server):
    from tandem.ingest.services import source_revoke

    with as_fixture():
        source, key = source_create(acting_user=None, name="Old")
        source_revoke(acting_user=None, source=source)
    errors: list[Exception] = []
    analytics = Client(key, host=live_server.url, sync_mode=True, on_error=lambda e, _batch: errors.append(e))
    with pytest.raises(Exception) as excinfo:
        analytics.track("u", "E")
    assert getattr(excinfo.value, "status", None) == 401
    assert getattr(excinfo.value, "code", None) == "unauthorized"
