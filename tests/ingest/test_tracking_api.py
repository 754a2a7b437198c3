"""The Segment-compatible tracking endpoints, through Django's test client."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import orjson
import pytest
from django.utils import timezone

from tandem.accounts.models import Account, Contact
from tandem.audit.models import AuditEntry
from tandem.ingest.inbox import Inbox
from tandem.ingest.ingestor import drain, pending_count
from tandem.ingest.models import Rejection, Source
from tandem.usage.eventstore import EventStore
from tests.factories import as_fixture
from tests.ingest.conftest import basic

pytestmark = pytest.mark.django_db


def post(client, path: str, body, key: str | None, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = basic(key)
    return client.post(path, data=data, content_type="application/json", **headers)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_group_identify_track_create_account_contact_and_events(client, source, event_store: EventStore):
    key = source.write_key
    assert (
        post(
            client,
            "/v1/group",
            {
                "userId": "u1",
                "groupId": "acme",
                "traits": {
                    "name": "Acme",
                    "website": "https://www.acme.io/x",
                    "industry": "Retail",
                    "plan": "Enterprise",
                },
            },
            key,
        ).status_code
        == 200
    )
    assert (
        post(
            client,
            "/v1/identify",
            {"userId": "u1", "traits": {"email": "ada@acme.io", "name": "Ada Lovelace", "title": "CTO"}},
            key,
        ).status_code
        == 200
    )
    response = post(
        client,
        "/v1/track",
        {"userId": "u1", "event": "Report Run", "properties": {"rows": 3, "quantity": 2}, "messageId": "m1"},
        key,
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "accepted": 1, "rejected": []}

    result = drain()

    account = Account.objects.get(external_id="acme")
    assert (account.name, account.domain, account.industry, account.tier) == ("Acme", "acme.io", "Retail", "enterprise")
    contact = Contact.objects.get(external_id="u1")
    assert (contact.account_id, contact.email, contact.first_name, contact.last_name, contact.title) == (
        account.pk,
        "ada@acme.io",
        "Ada",
        "Lovelace",
        "CTO",
    )
    assert result.stored == 1
    row = event_store.query_arrow(
        "SELECT account_id, contact_id, user_id, event, quantity, properties, message_id FROM events"
    ).to_pylist()
    assert row == [
        {
            "account_id": account.pk,
            "contact_id": contact.pk,
            "user_id": "u1",
            "event": "Report Run",
            "quantity": 2.0,
            "properties": '{"rows":3,"quantity":2}',
            "message_id": "m1",
        }
    ]
    source.refresh_from_db()
    assert (source.received_count, source.rejected_count) == (3, 0)
    assert [(e.event, e.property, e.volume) for e in event_store.catalog()] == [
        ("Report Run", "", 1),
        ("Report Run", "quantity", 1),
        ("Report Run", "rows", 1),
    ]


def test_repeated_message_id_is_stored_once(client, source, event_store):
    with as_fixture():
        Account.objects.create(name="Acme", external_id="acme")
    body = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "Login", "messageId": "dup", "context": {"groupId": "acme"}}
        ]
    }
    for _ in range(3):
        assert post(client, "/v1/batch", body, source.write_key).status_code == 200
    drain()
    assert post(client, "/v1/batch", body, source.write_key).status_code == 200
    result = drain()
    assert event_store.count() == 1
    assert result.duplicates == 1


def test_same_message_id_from_two_sources_is_two_events(client, source, event_store):
    from tandem.ingest.services import source_create

    with as_fixture():
        _other, other_key = source_create(acting_user=None, name="Backend")
        Account.objects.create(name="Acme", external_id="acme")
    body = {"type": "track", "userId": "u1", "event": "Login", "messageId": "same", "context": {"groupId": "acme"}}
    post(client, "/v1/track", body, source.write_key)
    post(client, "/v1/track", body, other_key)
    drain()
    assert event_store.count() == 2


def test_batch_with_invalid_messages_stores_the_valid_ones_and_names_the_rejected(client, source, event_store):
    with as_fixture():
        Account.objects.create(name="Acme", external_id="acme")
    now = timezone.now()
    good = {"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acme"}}
    batch = [
        {**good, "messageId": "ok-1"},
        {"type": "track", "userId": "u1", "messageId": "no-event"},
        {"type": "track", "event": "Login", "messageId": "no-user"},
        {**good, "messageId": "future", "timestamp": iso(now + dt.timedelta(days=2))},
        {**good, "messageId": "ancient", "timestamp": "1999-12-31T23:59:59Z"},
        {**good, "messageId": "bad-ts", "timestamp": "yesterday"},
        {**good, "messageId": "props", "properties": [1, 2]},
        "not an object",
        {**good, "type": "alias", "messageId": "alias"},
        {**good, "messageId": "ok-2", "timestamp": iso(now + dt.timedelta(hours=20))},
    ]
    response = post(client, "/v1/batch", {"batch": batch}, source.write_key)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["messageId"], r["field"]) for r in body["rejected"]] == [
        (1, "no-event", "event"),
        (2, "no-user", "userId"),
        (3, "future", "timestamp"),
        (4, "ancient", "timestamp"),
        (5, "bad-ts", "timestamp"),
        (6, "props", "properties"),
        (7, None, ""),
        (8, "alias", "type"),
    ]
    assert body["rejected"][2]["reason"] == "is more than one day in the future (after clock-skew correction)."
    assert body["rejected"][3]["reason"] == "is before the year 2000."
    drain()
    stored = event_store.query_arrow("SELECT message_id FROM events ORDER BY message_id").column(0).to_pylist()
    assert stored == ["ok-1", "ok-2"]
    source.refresh_from_db()
    assert (source.received_count, source.rejected_count) == (2, 8)
    assert Rejection.objects.filter(source=source).count() == 8


def test_timestamp_is_corrected_for_client_clock_skew(client, source, event_store):
    with as_fixture():
        Account.objects.create(name="Acme", external_id="acme")
    before = timezone.now()
    # The client's clock is 1 hour fast: it says it sent at now+1h an event of now+1h-10min.
    sent = before + dt.timedelta(hours=1)
    body = {
        "batch": [
            {
                "type": "track",
                "userId": "u",
                "event": "E",
                "context": {"groupId": "acme"},
                "timestamp": iso(sent - dt.timedelta(minutes=10)),
                "messageId": "skew",
            }
        ],
        "sentAt": iso(sent),
    }
    post(client, "/v1/batch", body, source.write_key)
    after = timezone.now()
    drain()
    ts, received = (
        event_store.query_arrow("SELECT epoch_us(ts) AS ts, epoch_us(received_at) AS r FROM events")
        .to_pylist()[0]
        .values()
    )
    received_at = dt.datetime.fromtimestamp(received / 1e6, dt.UTC)
    assert before <= received_at <= after
    assert ts == received - 10 * 60 * 1_000_000


def test_all_invalid_single_call_is_a_400_that_segment_clients_can_read(client, source):
    response = post(client, "/v1/track", {"userId": "u1"}, source.write_key)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["accepted"], body["rejected"][0]["field"]) == ("invalid_message", 0, "event")
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 400, "malformed_body"),
        (b"[1, 2]", 400, "malformed_body"),
        (b'{"batch": {"a": 1}}', 400, "malformed_body"),
        (b'{"batch": []}' + b" " * (500 * 1024), 413, "payload_too_large"),
    ],
)
def test_malformed_and_oversized_batches_are_clear_4xx_and_store_nothing(client, source, body, status, code):
    response = post(client, "/v1/batch", body, source.write_key)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert Inbox.for_settings().backlog() == 0


def test_oversized_message_in_a_batch_is_rejected_alone(client, source):
    big = {
        "type": "track",
        "userId": "u",
        "event": "Big",
        "properties": {"blob": "x" * (33 * 1024)},
        "messageId": "big",
    }
    small = {"type": "track", "userId": "u", "event": "Small", "messageId": "small"}
    body = post(client, "/v1/batch", {"batch": [big, small]}, source.write_key).json()
    assert body["accepted"] == 1
    assert body["rejected"] == [
        {"index": 0, "messageId": "big", "field": "", "reason": "the message is larger than 32 KB."}
    ]
    assert post(client, "/v1/track", big, source.write_key).status_code == 413


def test_gzip_body_and_write_key_in_body_are_accepted(client, source):
    raw = gzip.compress(
        orjson.dumps({"batch": [{"type": "track", "userId": "u", "event": "Zip"}], "writeKey": source.write_key})
    )
    response = client.post("/v1/batch", data=raw, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200


@pytest.mark.parametrize("key", [None, "tdmw_wrong", "revoked"])
def test_bad_write_keys_are_401_and_store_nothing(client, source, key):
    from tandem.ingest.services import source_revoke

    if key == "revoked":
        key = source.write_key
        with as_fixture():
            source_revoke(acting_user=None, source=source)
    response = post(client, "/v1/track", {"userId": "u", "event": "E"}, key)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Basic")
    assert Inbox.for_settings().backlog() == 0


def test_unknown_account_events_wait_and_are_attributed_by_a_later_group_call(client, source, event_store):
    post(client, "/v1/track", {"userId": "u9", "event": "Login", "messageId": "early"}, source.write_key)
    post(
        client,
        "/v1/track",
        {"userId": "u8", "event": "Login", "messageId": "explicit", "context": {"groupId": "later"}},
        source.write_key,
    )
    result = drain()
    assert (result.stored, result.parked, event_store.count(), pending_count()) == (0, 2, 0, 2)
    post(client, "/v1/group", {"userId": "u9", "groupId": "later", "traits": {"name": "Later Inc"}}, source.write_key)
    result = drain()
    account = Account.objects.get(external_id="later")
    assert result.attributed_from_pending == 2
    assert (event_store.count(account_id=account.pk), pending_count()) == (2, 0)


def test_unknown_path_and_get_are_problem_responses(client):
    assert post(client, "/v1/nope", {}, None).status_code == 404
    assert client.get("/v1/track").status_code == 405
    assert Source.objects.count() == 0


def test_group_and_identify_write_through_the_account_services(client, source, event_store: EventStore):
    """The same rules as a form: a groupId longer than an external id is refused at the door, and an
    email another contact of the account has leaves the user unlinked (no duplicate person)."""
    key = source.write_key
    too_long = post(client, "/v1/group", {"userId": "u1", "groupId": "g" * 101, "traits": {}}, key)
    assert (too_long.status_code, too_long.json()["rejected"][0]["field"]) == (400, "groupId")

    assert (
        post(client, "/v1/group", {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}}, key).status_code
        == 200
    )
    assert (
        post(
            client, "/v1/identify", {"userId": "u1", "traits": {"email": "ada@acme.io", "name": "Ada"}}, key
        ).status_code
        == 200
    )
    assert post(client, "/v1/group", {"userId": "u2", "groupId": "acme", "traits": {}}, key).status_code == 200
    assert (
        post(
            client, "/v1/identify", {"userId": "u2", "traits": {"email": "ADA@acme.io", "name": "Ada 2"}}, key
        ).status_code
        == 200
    )
    drain()

    account = Account.objects.get(external_id="acme")
    assert list(account.contacts.values_list("external_id", "email")) == [("u1", "ada@acme.io")]
    entry = AuditEntry.objects.get(
        content_type__model="account", object_pk=str(account.pk), action=AuditEntry.Action.CREATE
    )
    assert (entry.via, entry.additional_data) == ("api", {"source_id": source.pk})
