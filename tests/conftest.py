"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
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


# Fixtures that give a test the database (pytest-django's and the ones built on them).
_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


@pytest.fixture(autouse=True)
def _every_write_has_a_path(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that wrote audit entries outside any declared path, or UI/API ones without an actor.

    Each interface opens its path (the request middleware, the CLI, the job runner, the rules
    engine, imports, the demo builder, test factories as "fixture"); an entry with no path is a
    write that slipped past all of them. A module of service tests, which calls services directly
    as their only interface, says so with ``pytest.mark.audit_via("fixture")``. The database
    fixture is requested here so the check runs before the test's transaction is rolled back (or
    its tables flushed).
    """
    from tandem.audit.context import AuditScope, _scope, audit_context

    # Each test starts outside any path: an in-process CLI run (setup_django) sets the process's.
    token = _scope.set(AuditScope())
    try:
        names = set(request.fixturenames)
        marker = request.node.get_closest_marker("django_db")
        if marker is None and not names & _DB_FIXTURES:
            yield
            return
        transactional = bool(marker is not None and marker.kwargs.get("transaction")) or bool(
            names & {"transactional_db", "live_server"}
        )
        request.getfixturevalue("transactional_db" if transactional else "db")
        declared = request.node.get_closest_marker("audit_via")
        with audit_context(via=declared.args[0]) if declared else contextlib.nullcontext():
            yield
        _check_audit_paths()
    finally:
        _scope.reset(token)


def _check_audit_paths() -> None:
    from django.db import DatabaseError
    from django.db.models import Q

    from tandem.audit.models import AuditEntry, AuditVia

    # The tracking API acts for a write-key source, not a user: such entries name the source.
    no_actor = Q(via__in=[AuditVia.UI, AuditVia.API], actor__isnull=True) & ~Q(additional_data__has_key="source_id")
    try:
        bad = list(
            AuditEntry.objects.filter(Q(via=AuditVia.UNKNOWN) | no_actor)
            .order_by("pk")
            .values_list("via", "content_type__model", "object_repr", "action")[:10]
        )
    except DatabaseError:  # the test left its transaction unusable; it fails on its own account
        return
    if bad:
        pytest.fail(
            "audit entries written outside any declared path (via='') or through the UI/API without an "
            f"actor; open audit_context(via=...) or pass acting_user=: {bad}",
            pytrace=False,
        )


@pytest.fixture
def event_store(tmp_path: Path, settings, db: None) -> Iterator[EventStore]:
    """A fresh event store (a Delta table) that EventStore.for_settings() also returns."""
    settings.TANDEM_EVENTS_PATH = tmp_path / "events"
    EventStore.close_all()
    store = EventStore.for_settings()
    yield store
    EventStore.close_all()


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's superuser (used by ``admin_client``), created as test set-up."""
    from tests.factories import as_fixture

    with as_fixture():
        return django_user_model.objects.create_superuser("admin", "admin@example.com", "password")


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()
