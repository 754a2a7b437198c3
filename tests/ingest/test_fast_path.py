"""`tandem serve`'s hot path: /v1/<call> answered before Django, the group-committed inbox, the key cache."""

from __future__ import annotations

import io
import json
import threading
from wsgiref.util import setup_testing_defaults

import orjson
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tandem.ingest.inbox import Inbox
from tandem.ingest.ingestor import drain
from tandem.ingest.services import source_revoke, source_rotate, write_keys
from tandem.ingest.wsgi import MAX_BODY_BYTES, with_tracking_fast_path
from tests.factories import as_fixture
from tests.ingest.conftest import basic

pytestmark = pytest.mark.django_db


def django_stand_in(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"django:" + environ["PATH_INFO"].encode()]


app = with_tracking_fast_path(django_stand_in)


def call(path: str, body: bytes = b"", *, method: str = "POST", length: int | None = None, **headers: str):
    environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": method, "wsgi.input": io.BytesIO(body)}
    environ["CONTENT_LENGTH"] = str(len(body) if length is None else length)
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    setup_testing_defaults(environ)
    answer: dict = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    # As Django's test client does: the request signals must not close the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer["body"] = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer


def test_batch_is_answered_before_django_and_stored(source, event_store):
    from tandem.accounts.models import Account

    with as_fixture():
        account = Account.objects.create(name="Acme", external_id="acme")
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "Login", "messageId": "m1", "context": {"groupId": "acme"}},
            {"type": "track", "userId": "u1", "messageId": "m2"},
        ]
    }
    answer = call("/v1/batch", orjson.dumps(batch), authorization=basic(source.write_key))
    assert answer["status"] == 200
    assert answer["headers"]["Content-Type"] == "application/json"
    assert json.loads(answer["body"]) == {
        "success": True,
        "accepted": 1,
        "rejected": [{"index": 1, "messageId": "m2", "field": "event", "reason": "a track call needs an event name."}],
    }
    assert drain().stored == 1
    assert event_store.count(account_id=account.pk) == 1


def test_other_paths_go_to_django():
    assert call("/accounts/", method="GET")["body"] == b"django:/accounts/"
    assert call("/v1/batch/extra")["body"] == b"django:/v1/batch/extra"


def test_errors_match_the_django_view(source):
    unauthorized = call("/v1/track", b'{"userId": "u", "event": "E"}', authorization=basic("tdmw_wrong"))
    assert unauthorized["status"] == 401
    assert unauthorized["headers"]["WWW-Authenticate"].startswith("Basic")
    assert json.loads(unauthorized["body"])["code"] == "unauthorized"
    assert call("/v1/nope")["status"] == 404
    assert call("/v1/track", method="GET")["status"] == 405
    malformed = call("/v1/batch", b"{not json", authorization=basic(source.write_key))
    assert (malformed["status"], json.loads(malformed["body"])["code"]) == (400, "malformed_json")
    assert Inbox.for_settings().backlog() == 0


def test_a_body_announced_over_the_limit_is_refused_unread(source):
    answer = call("/v1/batch", b"{}", length=MAX_BODY_BYTES + 1, authorization=basic(source.write_key))
    assert (answer["status"], json.loads(answer["body"])["code"]) == (413, "payload_too_large")


def test_write_key_cache_forgets_rotated_and_revoked_keys_at_once(source):
    key = source.write_key
    assert write_keys.source_id(key) == source.pk
    assert write_keys.source_id(key) == source.pk  # from the cache
    with as_fixture():
        new_key = source_rotate(acting_user=None, source=source)
    assert (write_keys.source_id(key), write_keys.source_id(new_key)) == (None, source.pk)
    with as_fixture():
        source_revoke(acting_user=None, source=source)
    assert write_keys.source_id(new_key) is None
    assert write_keys.source_id("") is None


def test_write_key_cache_entries_expire(source, monkeypatch):
    from tandem.ingest.models import Source

    assert write_keys.source_id(source.write_key) == source.pk
    with as_fixture():
        Source.objects.filter(pk=source.pk).delete()  # as another process would, without clearing this cache
    assert write_keys.source_id(source.write_key) == source.pk
    import time
    from types import SimpleNamespace

    later = time.monotonic() + write_keys.ttl + 1
    monkeypatch.setattr("tandem.ingest.services.time", SimpleNamespace(monotonic=lambda: later))
    assert write_keys.source_id(source.write_key) is None


def test_concurrent_appends_share_commits_and_each_is_stored_once(tmp_path):
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    ids: list[int] = []
    lock = threading.Lock()

    def append(n: int) -> None:
        for i in range(25):
            row_id = inbox.append(source_id=n, received_at=now, messages=[{"n": n, "i": i}], rejections=[])
            with lock:
                ids.append(row_id)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = inbox.read_after(0, limit=1000)
    assert sorted(ids) == [r.id for r in rows] and len(set(ids)) == 200
    assert sorted((r.source_id, r.messages[0]["i"]) for r in rows) == [(n, i) for n in range(8) for i in range(25)]
    inbox.close()


def test_a_failed_commit_fails_every_call_in_it(tmp_path):
    import datetime as dt

    inbox = Inbox(tmp_path / "inbox.sqlite3")
    inbox.append(source_id=1, received_at=dt.datetime.now(dt.UTC), messages=[], rejections=[])
    inbox._writer.execute("DROP TABLE inbox")  # the next commit cannot insert
    with pytest.raises(Exception, match="no such table"):
        inbox.append(source_id=1, received_at=dt.datetime.now(dt.UTC), messages=[], rejections=[])
    inbox.close()
