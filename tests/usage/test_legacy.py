"""`tandem migrate` carries an events.duckdb written by an earlier version into the Delta table."""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pytest

from tandem.ingest.inbox import Inbox
from tandem.ingest.ingestor import last_drained_id, message_key
from tandem.ingest.models import PendingEvent
from tandem.usage.legacy import legacy_store_migrate
from tandem.usage.models import EventImport
from tandem.usage.selectors import catalog_entries

pytestmark = pytest.mark.django_db

OLD_DDL = """
CREATE TABLE events (account_id BIGINT NOT NULL, contact_id BIGINT, user_id VARCHAR, event VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL, quantity DOUBLE NOT NULL DEFAULT 1, properties JSON, source_id BIGINT,
    message_id VARCHAR, dedupe_key UBIGINT, received_at TIMESTAMPTZ);
CREATE TABLE event_catalog (event VARCHAR NOT NULL, property VARCHAR NOT NULL, first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL, volume BIGINT NOT NULL, PRIMARY KEY (event, property));
CREATE TABLE ingest_state (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE import_ledger (sha256 VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, imported_at TIMESTAMPTZ NOT NULL,
    rows BIGINT NOT NULL, added BIGINT NOT NULL);
CREATE TABLE pending_events (source_id BIGINT, message_id VARCHAR, dedupe_key UBIGINT NOT NULL, user_id VARCHAR,
    anonymous_id VARCHAR, group_id VARCHAR, event VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL, quantity DOUBLE NOT NULL,
    properties JSON, received_at TIMESTAMPTZ);
"""


def _old_key(source_id: int, message_id: str) -> int:
    """The unsigned key the earlier version stored."""
    digest = hashlib.blake2b(f"{source_id}\x1f{message_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def test_an_old_duckdb_store_is_copied_once_with_keys_bookmark_and_ledger(event_store, settings, tmp_path):
    settings.TANDEM_INGEST_INBOX_PATH = tmp_path / "inbox.sqlite3"
    Inbox.close_all()
    legacy = event_store.path.parent / "events.duckdb"
    con = duckdb.connect(str(legacy))
    con.execute(OLD_DDL)
    ts = dt.datetime(2025, 5, 1, 12, tzinfo=dt.UTC)
    keys = [_old_key(1, f"m{n}") for n in range(4)]
    assert any(k >= 2**63 for k in keys), "the fixture must cover keys above the signed range"
    for n, key in enumerate(keys):
        con.execute(
            "INSERT INTO events VALUES (7, NULL, 'u1', 'login', ?, 1, '{\"a\": 1}', 1, ?, ?, ?)",
            [ts + dt.timedelta(minutes=n), f"m{n}", key, ts],
        )
    con.execute("INSERT INTO events VALUES (8, NULL, 'u2', 'export', ?, 2, NULL, NULL, 'e1', NULL, NULL)", [ts])
    con.execute("INSERT INTO event_catalog VALUES ('login', '', ?, ?, 4), ('login', 'a', ?, ?, 4)", [ts] * 4)
    con.execute("INSERT INTO ingest_state VALUES ('inbox_last_id', 41)")
    con.execute("INSERT INTO import_ledger VALUES ('abc', 'old.csv', ?, 1, 1)", [ts])
    con.execute(
        "INSERT INTO pending_events VALUES (1, 'p1', ?, 'nobody', NULL, NULL, 'login', ?, 1, NULL, ?)",
        [_old_key(1, "p1"), ts, ts],
    )
    con.close()

    assert legacy_store_migrate(store=event_store) == 5

    assert event_store.count() == 5
    stored = event_store.query_arrow("SELECT message_id, dedupe_key FROM events WHERE dedupe_key IS NOT NULL")
    assert {r["message_id"]: r["dedupe_key"] for r in stored.to_pylist()} == {
        f"m{n}": message_key(1, f"m{n}") for n in range(4)
    }
    assert last_drained_id(event_store, Inbox.for_settings()) == 41
    assert [(e.event, e.property, e.volume) for e in catalog_entries()] == [("login", "", 4), ("login", "a", 4)]
    assert EventImport.objects.get(sha256="abc").added == 1
    assert PendingEvent.objects.get().dedupe_key == message_key(1, "p1")
    assert not legacy.exists() and legacy.with_name("events.duckdb.migrated").exists()
    assert legacy_store_migrate(store=event_store) is None  # once only
    assert event_store.count() == 5
