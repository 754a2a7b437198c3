from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tandem.ingest import ingestor
from tandem.ingest.inbox import Inbox
from tandem.usage.eventstore import EventStore
from tests.factories import as_fixture


@pytest.fixture(autouse=True)
def ingest_paths(tmp_path: Path, settings, event_store: EventStore) -> Iterator[EventStore]:
    """A fresh inbox and event store per test; drains are explicit unless a test starts the thread."""
    settings.TANDEM_INGEST_INBOX_PATH = tmp_path / "inbox.sqlite3"
    settings.TANDEM_INGEST_BACKGROUND = False
    Inbox.close_all()
    ingestor._resolver.clear()
    yield event_store
    Inbox.close_all()


@pytest.fixture
def source(db):
    from tandem.ingest.services import source_create

    with as_fixture():
        src, key = source_create(acting_user=None, name="Web app")
    src.write_key = key  # type: ignore[attr-defined]
    return src


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()
