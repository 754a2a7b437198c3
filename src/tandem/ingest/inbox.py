"""The durable inbox: every accepted tracking call is committed here before the response.

A SQLite file in TANDEM_HOME (``inbox.sqlite3``), separate from the relational database so that
it behaves the same on PostgreSQL deployments, in WAL mode with ``synchronous=FULL``: a commit is
fsynced, so an answered call survives a crash of the process or the machine. One row per call
holds the normalised accepted messages and the rejections. Any number of threads and processes
may append; the ingestor (tandem.ingest.ingestor) reads rows in id order and deletes them once
their events are committed to the event store. AUTOINCREMENT ids are never reused, so "drained up
to id N" is a safe bookmark; it is committed with the events themselves (a Delta ``txn`` action
under the inbox's ``identity``, a UUID kept in the file), so several hosts, each with an inbox of
its own, can drain into one shared event store.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

DDL = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    messages BLOB NOT NULL,
    rejections BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO inbox_meta VALUES ('identity', lower(hex(randomblob(16))));
"""


@dataclass(frozen=True)
class InboxRow:
    """One stored call: its accepted messages (normalised dicts) and rejections (dicts)."""

    id: int
    source_id: int
    received_at: dt.datetime
    messages: list[dict[str, Any]]
    rejections: list[dict[str, Any]]


@dataclass
class _Pending:
    """One call waiting for the next group commit: its row, then its id or the error."""

    params: tuple[Any, ...]
    row_id: int = 0
    error: BaseException | None = None
    done: bool = False


class Inbox:
    """An append-only table of accepted calls in its own SQLite file.

    Appends are group-committed: request threads queue their rows, and whichever thread finds no
    commit running writes every queued row in one transaction (one fsync) on the process's single
    writer connection, then wakes the others. Under load many calls share one fsync; alone, a call
    commits at once. A single writer connection also means request threads never sleep in
    SQLite's busy handler waiting for each other. Reads use one connection per thread.
    """

    _instances: dict[Path, Inbox] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._queue: list[_Pending] = []
        self._committing = False
        self._cv = threading.Condition()
        self._writer: sqlite3.Connection | None = None

    @classmethod
    def for_settings(cls) -> Inbox:
        from django.conf import settings

        path = Path(settings.TANDEM_INGEST_INBOX_PATH)
        with cls._instances_lock:
            inbox = cls._instances.get(path)
            if inbox is None:
                inbox = cls._instances[path] = cls(path)
            return inbox

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(DDL)
        return conn

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def append(
        self,
        *,
        source_id: int,
        received_at: dt.datetime,
        messages: list[dict[str, Any]],
        rejections: list[dict[str, Any]],
    ) -> int:
        """Store one call durably (committed and fsynced on return); returns its row id."""
        item = _Pending(
            (
                source_id,
                received_at.isoformat(),
                len(messages),
                len(rejections),
                orjson.dumps(messages),
                orjson.dumps(rejections),
            )
        )
        with self._cv:
            self._queue.append(item)
            while not item.done and self._committing:
                self._cv.wait()
            if not item.done:
                # No commit running: this thread commits everything queued, its own row included.
                self._committing = True
                batch, self._queue = self._queue, []
        if not item.done:
            try:
                self._commit(batch)
            finally:
                with self._cv:
                    self._committing = False
                    self._cv.notify_all()
        if item.error is not None:
            raise item.error
        return item.row_id

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            if self._writer is None:
                self._writer = self._open()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                for pending in batch:
                    cur = conn.execute(
                        "INSERT INTO inbox (source_id, received_at, accepted, rejected, messages, rejections) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        pending.params,
                    )
                    pending.row_id = int(cur.lastrowid or 0)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except BaseException as exc:  # every caller of the batch gets the error: none of them was stored
            for pending in batch:
                pending.error = exc
        finally:
            for pending in batch:
                pending.done = True

    def read_after(self, last_id: int, *, limit: int) -> list[InboxRow]:
        rows = self._connection().execute(
            "SELECT id, source_id, received_at, messages, rejections FROM inbox WHERE id > ? ORDER BY id LIMIT ?",
            (last_id, limit),
        )
        return [
            InboxRow(
                id=r[0],
                source_id=r[1],
                received_at=dt.datetime.fromisoformat(r[2]),
                messages=orjson.loads(r[3]),
                rejections=orjson.loads(r[4]),
            )
            for r in rows
        ]

    def delete_through(self, last_id: int) -> None:
        """Forget the calls up to ``last_id`` (drained), on the writer connection between group commits.

        Sharing the writer keeps the ingestor's delete from holding SQLite's write lock while a
        request thread's commit sleeps in the busy handler.
        """
        with self._cv:
            while self._committing:
                self._cv.wait()
            self._committing = True
        try:
            if self._writer is None:
                self._writer = self._open()
            self._writer.execute("DELETE FROM inbox WHERE id <= ?", (last_id,))
        finally:
            with self._cv:
                self._committing = False
                self._cv.notify_all()

    def identity(self) -> str:
        """This inbox's id (a UUID made when the file was created): its bookmark's name in the event store."""
        row = self._connection().execute("SELECT value FROM inbox_meta WHERE key = 'identity'").fetchone()
        return f"tandem-inbox-{row[0]}"

    def backlog(self) -> int:
        """Calls stored but not yet drained."""
        row = self._connection().execute("SELECT count(*) FROM inbox").fetchone()
        return int(row[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        with self._cv:
            if self._writer is not None and not self._committing:
                self._writer.close()
                self._writer = None

    @classmethod
    def close_all(cls) -> None:
        with cls._instances_lock:
            for inbox in cls._instances.values():
                inbox.close()
            cls._instances.clear()
