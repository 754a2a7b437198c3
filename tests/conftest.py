"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tandem.usage.eventstore import EventStore


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """Requests activate a language in the thread and nothing resets it; keep tests independent."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def event_store(tmp_path: Path, settings, db: None) -> Iterator[EventStore]:
    """A fresh event store (a Delta table) that EventStore.for_settings() also returns."""
    settings.TANDEM_EVENTS_PATH = tmp_path / "events"
    EventStore.close_all()
    store = EventStore.for_settings()
    yield store
    EventStore.close_all()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()
