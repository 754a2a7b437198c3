"""A refused request is one line in the server log, not a traceback; a server error keeps its traceback."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from tandem.core.logging import ClientErrorWithoutTraceback

pytestmark = [pytest.mark.django_db, pytest.mark.audit_via("fixture")]


def _console() -> logging.StreamHandler:
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "settings.LOGGING configures a console handler"
    return handlers[0]


def test_a_403_writes_a_line_without_a_traceback() -> None:
    from tandem.users.services import user_create

    csm = user_create(acting_user=None, username="casey", password=None, roles=["csm"])
    client = Client()
    client.force_login(csm)
    # A handler like the configured console one (same filters), writing to a buffer.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for f in _console().filters:
        handler.addFilter(f)
    assert any(isinstance(f, ClientErrorWithoutTraceback) for f in handler.filters)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        response = client.get("/playbooks/team/")  # CS managers only
    finally:
        root.removeHandler(handler)
    assert response.status_code == 403
    log = stream.getvalue()
    assert "Forbidden" in log and "/playbooks/team/" in log
    assert "Traceback" not in log and "PermissionDenied" not in log


def test_the_filter_keeps_the_traceback_of_a_server_error() -> None:
    def record(status: int) -> logging.LogRecord:
        try:
            raise PermissionDenied("no")
        except PermissionDenied:
            import sys

            item = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), sys.exc_info())
        item.status_code = status
        return item

    f = ClientErrorWithoutTraceback()
    refused, failed = record(403), record(500)
    assert f.filter(refused) and refused.exc_info is None
    assert f.filter(failed) and failed.exc_info is not None
