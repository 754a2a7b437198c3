"""The durable inbox: every accepted tracking call is committed here before the response.

A SQLite file in TANDEM_HOME (``inbox.sqlite3``), separate from the relational database so that
it behaves the same on PostgreSQL deployments, in WAL mode with ``synchronous=FULL``: a commit is
fsynced, so an answered call survives a crash of the process or the machine. One row per call
holds the normalised accepted messages and the rejections. Any number of threads and processes
may append; the ingestor (tandem.ingest.ingestor) reads rows in id order and deletes them once
their events are committed to DuckDB. AUTOINCREMENT ids are never reused, so "drained up to id N"
is a safe bookmark.
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
)
"""


@dataclass(frozen=True)
class InboxRow:
    """One stored call: its accepted messages (normalised dicts) and rejections (dicts)."""

    id: int
    source_id: int
    received_at: dt.datetime
    messages: list[dict[str, Any]]
    rejections: list[dict[str, Any]]


class Inbox:
    """An append-only table of accepted calls in its own SQLite file; one connection per thread."""

    _instances: dict[Path, Inbox] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()

    @classmethod
    def for_settings(cls) -> Inbox:
        from django.conf import settings

        path = Path(settings.TANDEM_INGEST_INBOX_PATH)
        with cls._instances_lock:
            inbox = cls._instances.get(path)
            if inbox is None:
                inbox = cls._instances[path] = cls(path)
            return inbox

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(DDL)
            self._local.conn = conn
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
        cur = self._connection().execute(
            "INSERT INTO inbox (source_id, received_at, accepted, rejected, messages, rejections) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                source_id,
                received_at.isoformat(),
                len(messages),
                len(rejections),
                orjson.dumps(messages),
                orjson.dumps(rejections),
            ),
        )
        return int(cur.lastrowid or 0)

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
        self._connection().execute("DELETE FROM inbox WHERE id <= ?", (last_id,))

    def backlog(self) -> int:
        """Calls stored but not yet drained."""
        row = self._connection().execute("SELECT count(*) FROM inbox").fetchone()
        return int(row[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @classmethod
    def close_all(cls) -> None:
        with cls._instances_lock:
            for inbox in cls._instances.values():
                inbox.close()
            cls._instances.clear()
