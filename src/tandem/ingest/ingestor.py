"""Drain the inbox into the event store: the writer of tracked events.

Runs as one background thread in every process that serves the web UI, or on demand with
``tandem ingest drain``. Several such processes (on one host sharing ``TANDEM_HOME``, or on
several hosts sharing the event store and a PostgreSQL database) take turns: a step runs under
the event store's ``ingest`` writer lock. Each drain step reads up to ``limit`` calls in inbox
order and

1. applies their group and identify calls to accounts, contacts and tracked users (idempotent
   upserts in the relational database);
2. attributes track and page events to an account: an explicit groupId (or context.groupId)
   names the account by its external_id, otherwise the user's account from earlier group calls;
3. parks the events whose account is not known yet in ``PendingEvent`` (relational, unique by
   dedupe key);
4. in one Delta commit appends the attributed events whose dedupe key is not stored yet (a
   repeated messageId of the same source is stored once) together with the inbox's bookmark
   (Delta's application transaction: the id of the last call drained);
5. deletes the drained calls from the inbox and adds the counts to each source.

A crash after 4 replays nothing: the bookmark was committed with the events. A crash before it
replays the step, and every part of it is idempotent (upserts, unique pending keys, dedupe keys).
Parked events are attributed again after every step that saw group or identify calls.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
from django.db import close_old_connections, transaction

from tandem.accounts.models import Account
from tandem.audit.context import audit_context
from tandem.audit.models import AuditVia
from tandem.imports.entities.base import fetch_in_chunks
from tandem.ingest.inbox import Inbox, InboxRow
from tandem.ingest.models import PendingEvent, TrackedUser
from tandem.ingest.services import account_upsert_from_group, contact_upsert_from_identify, source_record_stats
from tandem.usage.eventstore import STORED_SCHEMA, EventStore

log = logging.getLogger(__name__)

PENDING_FIELDS = [
    "source_id", "message_id", "dedupe_key", "user_id", "anonymous_id", "group_id", "event", "ts", "quantity",
    "properties", "received_at",
]  # fmt: skip
_drain_lock = threading.Lock()


def message_key(source_id: int, message_id: str) -> int:
    """The dedupe key of a tracked message: a stable signed 64-bit hash of (source, messageId)."""
    digest = hashlib.blake2b(f"{source_id}\x1f{message_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass
class DrainResult:
    """What one drain did: calls read, events stored, parked, duplicates skipped."""

    calls: int = 0
    stored: int = 0
    parked: int = 0
    duplicates: int = 0
    attributed_from_pending: int = 0
    busy: bool = False  # another process held the ingest lock
    errors: list[str] = field(default_factory=list)

    def add(self, other: DrainResult) -> None:
        self.calls += other.calls
        self.stored += other.stored
        self.parked += other.parked
        self.duplicates += other.duplicates
        self.attributed_from_pending += other.attributed_from_pending


def last_drained_id(store: EventStore, inbox: Inbox) -> int:
    """The id of the last call of ``inbox`` whose events are committed to ``store``."""
    return store.transaction_version(inbox.identity()) or 0


def pending_count(store: EventStore | None = None) -> int:
    """Events waiting for their account to become known."""
    return PendingEvent.objects.count()


def drain(
    *,
    store: EventStore | None = None,
    inbox: Inbox | None = None,
    limit: int = 200,
    max_steps: int | None = None,
    wait: bool = True,
) -> DrainResult:
    """Drain the inbox until it is empty (or ``max_steps`` steps); safe to call from any thread.

    With ``wait`` false, returns at once (``busy``) when another process is draining into the store.
    """
    store = store or EventStore.for_settings()
    inbox = inbox or Inbox.for_settings()
    total = DrainResult()
    with _drain_lock, store.writer_lock("ingest", blocking=wait) as got:
        if not got:
            total.busy = True
            return total
        steps = 0
        while max_steps is None or steps < max_steps:
            result = _drain_step(store, inbox, limit)
            if result.calls == 0:
                break
            total.add(result)
            steps += 1
    return total


def _drain_step(store: EventStore, inbox: Inbox, limit: int) -> DrainResult:
    last_id = last_drained_id(store, inbox)
    rows = inbox.read_after(last_id, limit=limit)
    result = DrainResult(calls=len(rows))
    if not rows:
        return result
    saw_people = _apply_people(rows)
    if saw_people:
        _resolver.clear()
    events, unresolved, offered = _attribute(rows)
    result.parked = _park(unresolved)
    result.stored = store.append_new(events, app_transaction=(inbox.identity(), rows[-1].id))
    result.duplicates = offered - result.stored - result.parked
    inbox.delete_through(rows[-1].id)
    _record_stats(rows)
    if saw_people:
        result.attributed_from_pending = attribute_pending(store=store)
    return result


def _apply_people(rows: list[InboxRow]) -> bool:
    """Apply group and identify calls in arrival order; return whether there were any.

    The accounts and contacts they create or change are recorded as via "api" with the source
    whose write key sent the call (the tracking API authenticates sources, not users).
    """
    seen = False
    for row in rows:
        with audit_context(via=AuditVia.API, extra={"source_id": row.source_id}):
            for m in row.messages:
                if m["type"] == "group":
                    seen = True
                    account_upsert_from_group(
                        acting_user=None, group_id=m["groupId"], traits=m["traits"], user_id=m["userId"]
                    )
                elif m["type"] == "identify" and m["userId"]:
                    seen = True
                    contact_upsert_from_identify(
                        acting_user=None, user_id=m["userId"], traits=m["traits"], group_id=m["groupId"]
                    )
    return seen


class _Resolver:
    """Known accounts (by external id) and tracked users, remembered between drain steps.

    Only found entries are kept, for at most ``ttl`` seconds, and everything is forgotten after a
    step that applied group or identify calls (they are what changes a user's account). So a
    steady stream of track calls for known users costs no relational query at all, and an
    account that appears later is looked up afresh.
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._accounts: dict[str, int] = {}
        self._users: dict[str, tuple[int | None, int | None]] = {}
        self._expires = 0.0

    def clear(self) -> None:
        self._accounts.clear()
        self._users.clear()

    def resolve(
        self, group_ids: set[str], user_ids: set[str]
    ) -> tuple[dict[str, int], dict[str, tuple[int | None, int | None]]]:
        now = time.monotonic()
        if now >= self._expires:
            self.clear()
            self._expires = now + self.ttl
        missing_groups = group_ids.difference(self._accounts)
        if missing_groups:
            self._accounts.update(
                (v["external_id"], v["id"])
                for v in fetch_in_chunks(Account.objects.all(), "external_id", missing_groups, "external_id", "id")
            )
        missing_users = user_ids.difference(self._users)
        if missing_users:
            self._users.update(
                (v["user_id"], (v["account_id"], v["contact_id"]))
                for v in fetch_in_chunks(
                    TrackedUser.objects.all(), "user_id", missing_users, "user_id", "account_id", "contact_id"
                )
            )
        return self._accounts, self._users


_resolver = _Resolver()


def _resolution(
    group_ids: set[str], user_ids: set[str]
) -> tuple[dict[str, int], dict[str, tuple[int | None, int | None]]]:
    return _resolver.resolve(group_ids, user_ids)


def _attribute(rows: list[InboxRow]) -> tuple[pa.Table, list[dict[str, Any]], int]:
    """Split the rows' track/page messages into attributed events and unresolved ones."""
    messages = [(row, m) for row in rows for m in row.messages if m["event"] is not None]
    group_ids = {m["groupId"] for _row, m in messages if m["groupId"]}
    user_ids = {m["userId"] for _row, m in messages if m["userId"]}
    accounts, users = _resolution(group_ids, user_ids)
    ev: dict[str, list[Any]] = defaultdict(list)
    pend: dict[str, list[Any]] = defaultdict(list)
    for row, m in messages:
        user = users.get(m["userId"]) if m["userId"] else None
        account_id = accounts.get(m["groupId"]) if m["groupId"] else (user[0] if user else None)
        props = orjson.dumps(m["properties"]).decode() if m["properties"] else None
        key = message_key(row.source_id, m["messageId"])
        ts = dt.datetime.fromisoformat(m["ts"])
        if account_id is None:
            for name, value in (
                ("source_id", row.source_id),
                ("message_id", m["messageId"]),
                ("dedupe_key", key),
                ("user_id", m["userId"]),
                ("anonymous_id", m["anonymousId"]),
                ("group_id", m["groupId"]),
                ("event", m["event"]),
                ("ts", ts),
                ("quantity", m["quantity"]),
                ("properties", props),
                ("received_at", row.received_at),
            ):
                pend[name].append(value)
            continue
        ev["account_id"].append(account_id)
        ev["contact_id"].append(user[1] if user and user[0] == account_id else None)
        ev["user_id"].append(m["userId"] or m["anonymousId"])
        ev["event"].append(m["event"])
        ev["ts"].append(ts)
        ev["quantity"].append(m["quantity"])
        ev["properties"].append(props)
        ev["source_id"].append(row.source_id)
        ev["message_id"].append(m["messageId"])
        ev["dedupe_key"].append(key)
        ev["received_at"].append(row.received_at)
    events = pa.table({f.name: pa.array(ev[f.name], type=f.type) for f in STORED_SCHEMA})
    pending = [
        dict(zip(PENDING_FIELDS, values, strict=True))
        for values in zip(*(pend[n] for n in PENDING_FIELDS), strict=True)
    ]
    return events, pending, len(messages)


def _park(pending: list[dict[str, Any]]) -> int:
    """Keep events whose account is unknown until it is known; a replayed message is parked once."""
    if not pending:
        return 0
    keys = {p["dedupe_key"] for p in pending}
    with transaction.atomic():
        known = set(PendingEvent.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        fresh: dict[int, PendingEvent] = {}
        for p in pending:
            if p["dedupe_key"] not in known and p["dedupe_key"] not in fresh:
                fresh[p["dedupe_key"]] = PendingEvent(**p)
        PendingEvent.objects.bulk_create(fresh.values(), ignore_conflicts=True)
    return len(fresh)


def attribute_pending(*, store: EventStore | None = None) -> int:
    """Move parked events whose account is now known into the store; return how many moved."""
    store = store or EventStore.for_settings()
    if not PendingEvent.objects.exists():
        return 0
    with store.writer_lock("ingest"):
        return _attribute_pending(store)


def _attribute_pending(store: EventStore) -> int:
    keys = list(PendingEvent.objects.values_list("user_id", "group_id").distinct())
    if not keys:
        return 0
    accounts, users = _resolution({g for _u, g in keys if g}, {u for u, _g in keys if u})
    resolved: dict[tuple[str | None, str | None], tuple[int, int | None]] = {}
    for user_id, group_id in keys:
        user = users.get(user_id) if user_id else None
        account_id = accounts.get(group_id) if group_id else (user[0] if user else None)
        if account_id is not None:
            resolved[(user_id, group_id)] = (account_id, user[1] if user and user[0] == account_id else None)
    if not resolved:
        return 0
    ev: dict[str, list[Any]] = defaultdict(list)
    moved_ids: list[int] = []
    for p in PendingEvent.objects.order_by("id").iterator(chunk_size=2000):
        target = resolved.get((p.user_id, p.group_id))
        if target is None:
            continue
        moved_ids.append(p.pk)
        ev["account_id"].append(target[0])
        ev["contact_id"].append(target[1])
        ev["user_id"].append(p.user_id or p.anonymous_id)
        ev["event"].append(p.event)
        ev["ts"].append(p.ts)
        ev["quantity"].append(p.quantity)
        ev["properties"].append(p.properties)
        ev["source_id"].append(p.source_id)
        ev["message_id"].append(p.message_id)
        ev["dedupe_key"].append(p.dedupe_key)
        ev["received_at"].append(p.received_at)
    table = pa.table({f.name: pa.array(ev[f.name], type=f.type) for f in STORED_SCHEMA})
    # Stored first, then forgotten: a crash in between stores nothing twice (dedupe keys).
    moved = store.append_new(table)
    for start in range(0, len(moved_ids), 500):
        PendingEvent.objects.filter(pk__in=moved_ids[start : start + 500]).delete()
    return moved


def _record_stats(rows: list[InboxRow]) -> None:
    per_source: dict[int, dict[str, Any]] = {}
    for row in rows:
        stats = per_source.setdefault(row.source_id, {"accepted": 0, "rejected": 0, "last": row.received_at, "rej": []})
        stats["accepted"] += len(row.messages)
        stats["rejected"] += len(row.rejections)
        stats["last"] = max(stats["last"], row.received_at)
        stats["rej"].extend({**r, "received_at": row.received_at} for r in row.rejections)
    for source_id, stats in per_source.items():
        source_record_stats(
            source_id=source_id,
            accepted=stats["accepted"],
            rejected=stats["rejected"],
            last_received_at=stats["last"],
            rejections=stats["rej"],
        )


class BackgroundIngestor:
    """The process's single ingest thread: drains when woken by a call, and every second."""

    def __init__(self, interval: float = 1.0, min_interval: float = 0.5) -> None:
        self.interval = interval
        # Calls arriving one by one are stored together: at most one drain (one Delta commit per
        # step) every ``min_interval`` seconds, so a trickle of calls does not become a trickle of
        # tiny files and log entries.
        self.min_interval = min_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="tandem-ingestor", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        attribute_first = True
        last = 0.0
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._stop.wait(max(0.0, self.min_interval - (time.monotonic() - last)))
            self._wake.clear()
            last = time.monotonic()
            try:
                close_old_connections()
                if attribute_first:
                    attribute_pending()
                    attribute_first = False
                drain(wait=False)  # another serving process may be draining: then it is its turn
            except Exception:  # keep the thread alive; the inbox keeps the calls for the next try
                log.exception("draining the tracking inbox failed; retrying")
                self._stop.wait(min(self.interval * 5, 10))
            finally:
                close_old_connections()


background = BackgroundIngestor()


def start_background_ingestor() -> None:
    """Start the ingest thread of this process (called by the server and on the first call)."""
    from django.conf import settings

    if settings.TANDEM_INGEST_BACKGROUND:
        background.ensure_running()


def wake_ingestor() -> None:
    """Tell the ingest thread that a call was accepted (starting it if this process has none yet)."""
    start_background_ingestor()
    background.wake()
